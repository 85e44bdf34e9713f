"""The FastAPI application: services on app.state, routes, error shapes, the body limit and the UI at /."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException

from bullet_native import BulletError, Status

from .limits import BodySizeLimit
from .openapi import api_document
from .routes import datasets, legacy, models, openai, runs, sessions, system
from .schemas.common import ErrorBody
from .schemas.models import GenerationToken
from .schemas.openai import DOCUMENTED as OPENAI_SHAPES
from .security import AccessGuard
from .services.datasets import DatasetStore
from .services.errors import (BadRequest, Conflict, DashboardError, Forbidden, Invalid, NotFound, TooLarge, Unavailable,
                              Unsupported)
from .services.models import ModelStore
from .services.runtime import ModelRunner
from .services.sessions import SessionManager
from .settings import Settings
from .static import DOCS_NOT_BUILT_PAGE, NOT_BUILT_PAGE, STATIC_DIR, SWAGGER_DIR, UI_TABS, swagger_built, ui_built

# Every route passes the access guard first (README, "Security"); /v1 documents these in OpenAI's shape instead.
ACCESS_REFUSALS = {401: {"model": ErrorBody, "description": "the server has a token and the request does not carry it"},
                   403: {"model": ErrorBody, "description": "a Host this server does not answer to, or another site's page"}}

# The HTTP status of every kind of refusal; anything else is the server's fault (500).
ERROR_STATUS = {BadRequest: 400, Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413, Unsupported: 415, Invalid: 422,
                Unavailable: 503}
# Native statuses: a bad argument or bad data is the client's to fix; an operation the session cannot do in its state,
# or a handle that is gone, is a conflict; a cancelled call is a worker that did not answer.
NATIVE_STATUS = {Status.INVALID_ARGUMENT: 422, Status.FORMAT_ERROR: 422, Status.INVALID_STATE: 409, Status.INVALID_HANDLE: 409,
                 Status.CANCELLED: 503}


def http_status(error: Exception) -> int:
    """The one place a service's or the native library's error becomes an HTTP status."""
    if isinstance(error, DashboardError):
        return next((code for kind, code in ERROR_STATUS.items() if isinstance(error, kind)), 500)
    if isinstance(error, BulletError):
        return NATIVE_STATUS.get(error.status, 500)
    if isinstance(error, HTTPException):
        return error.status_code
    return 500


def error_body(error: Exception) -> dict:
    """{"detail": message} plus the per-field "errors" of a config when there are any."""
    body = {"detail": error.detail if isinstance(error, HTTPException) else str(error)}
    if getattr(error, "errors", None):
        body["errors"] = error.errors
    return body


def create_app(settings: Settings) -> FastAPI:
    """A new app over ``settings.data_dir``; it finds every dataset, model and session already there."""
    # /docs is served below from the package's own copy of Swagger UI: FastAPI's default page loads it from a CDN.
    app = FastAPI(title="Bullet Dashboard", version=system.SERVER_VERSION, docs_url=None, redoc_url=None, responses=ACCESS_REFUSALS,
                  description="Train tiny 4-bit language models into .bullet files: datasets, training sessions with live "
                              "Server-Sent Events, models, and the legacy /train, /logs and /download routes.")
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    app.state.settings = settings
    app.state.datasets = DatasetStore(data / "datasets", settings.max_upload_bytes)
    app.state.models = ModelStore(data / "models", settings.max_upload_bytes)
    app.state.runner = ModelRunner(app.state.models)
    app.state.sessions = SessionManager(data / "sessions", data / "models", settings)

    @app.on_event("shutdown")
    def close_sessions() -> None:
        app.state.sessions.shutdown()
        app.state.runner.close()

    @app.exception_handler(DashboardError)
    @app.exception_handler(BulletError)
    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=http_status(exc), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        """A fault of the server's own, still as an ErrorBody (Starlette raises it on, so the server logs the traceback)."""
        return JSONResponse({"detail": f"the server failed: {type(exc).__name__}: {exc}"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(problems) or "invalid request",
                             "errors": [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]},
                            status_code=422)

    for module in (system, datasets, sessions, runs, models, legacy, openai):
        app.include_router(module.router)
    app.openapi = lambda: api_document(app, [ErrorBody, GenerationToken, *OPENAI_SHAPES])

    @app.get("/docs", include_in_schema=False)
    def api_docs():
        if not swagger_built():
            return HTMLResponse(DOCS_NOT_BUILT_PAGE)
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="Bullet Dashboard API",
                                   swagger_js_url=f"/{SWAGGER_DIR}/swagger-ui-bundle.js",
                                   swagger_css_url=f"/{SWAGGER_DIR}/swagger-ui.css",
                                   swagger_favicon_url=f"/{SWAGGER_DIR}/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html") if ui_built() else HTMLResponse(NOT_BUILT_PAGE)

    @app.get("/{path:path}", include_in_schema=False)
    def frontend(path: str):
        """Built assets by path, and the single-page app for its own page paths (/<tab>[/<session>])."""
        if ui_built():
            candidate = (STATIC_DIR / path).resolve()
            if STATIC_DIR.resolve() in candidate.parents and candidate.is_file():
                return FileResponse(candidate)
            if path.split("/", 1)[0] in UI_TABS:
                return FileResponse(STATIC_DIR / "index.html")
        raise NotFound(f"no route /{path}")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessGuard, settings=settings)   # added last, so it runs first
    return app
