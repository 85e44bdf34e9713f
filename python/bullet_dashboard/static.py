"""The built frontend (bullet_dashboard/static), and the server's own plain pages (UI not built, access refused)."""
from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The frontend's tabs (frontend/src/app/router.ts): only these page paths fall back to index.html, so an unknown
# or hostile path is a 404 rather than the app.
UI_TABS = frozenset({"train", "runs", "attention", "style", "playground", "models"})
# Where the frontend build puts Swagger UI's files (frontend/vite.config.ts) for the /docs page.
SWAGGER_DIR = "swagger"


def plain_page(body: str) -> str:
    """A page of the server's own (no frontend needed), in the UI's colours; ``body`` is HTML."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Bullet Dashboard</title>
<style>body{{background:#111418;color:#e6e9ef;font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}}
a{{color:#8ab4ff}} input,button{{font:inherit;padding:.3rem .5rem}}</style></head>
<body><h1>Bullet Dashboard</h1>
{body}</body></html>
"""


NOT_BUILT_PAGE = plain_page("""<p>The server is running, but the browser UI is not built yet (run <code>./build.sh</code> to build it).</p>
<p>The API works now: see the <a href="/docs">API documentation</a>.</p>""")


def ui_built() -> bool:
    """True when the frontend build is installed in the package."""
    return (STATIC_DIR / "index.html").is_file()


DOCS_NOT_BUILT_PAGE = plain_page("""<p>The API documentation page is part of the browser UI build (run <code>./build.sh</code>).
The API's description is at <a href="/openapi.json">/openapi.json</a>.</p>""")


def swagger_built() -> bool:
    """True when the frontend build installed Swagger UI's files for /docs."""
    return (STATIC_DIR / SWAGGER_DIR / "swagger-ui-bundle.js").is_file()
