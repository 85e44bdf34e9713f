"""Services the routes call: datasets, models and training sessions on disk and in the native library."""
