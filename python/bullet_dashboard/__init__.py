"""bullet_dashboard: the FastAPI app over bullet_native (datasets, training sessions, live events, models)."""
