"""The FastAPI application: services on app.state, routes, error shapes, the body limit and the UI at /."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from bullet_native import BulletError
from bullet_native._native import CLIENT_FAULTS

from .limits import BodySizeLimit
from .routes import datasets, legacy, models, runs, sessions, system
from .security import AccessGuard
from .services.datasets import DatasetStore
from .services.models import ModelStore
from .services.runs import RunIndex
from .services.runtime import ModelRunner
from .services.sessions import SessionManager
from .settings import Settings
from .static import NOT_BUILT_PAGE, STATIC_DIR, UI_TABS, ui_built

# Native statuses (see bullet_native._native.STATUS_NAMES) as HTTP: bad argument or data is the client's to fix.
NATIVE_HTTP_STATUS = {**{status: 422 for status in CLIENT_FAULTS}, 2: 400, 4: 404}


def create_app(settings: Settings) -> FastAPI:
    """A new app over ``settings.data_dir``; it finds every dataset, model and session already there."""
    app = FastAPI(title="Bullet Dashboard", version=system.SERVER_VERSION,
                  description="Train tiny 4-bit language models into .bullet files: datasets, training sessions with live "
                              "Server-Sent Events, models, and the legacy /train, /logs and /download routes.")
    data = Path(settings.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    app.state.settings = settings
    app.state.datasets = DatasetStore(data / "datasets", settings.max_upload_bytes)
    app.state.models = ModelStore(data / "models", settings.max_upload_bytes)
    app.state.runner = ModelRunner(app.state.models)
    app.state.sessions = SessionManager(data / "sessions", data / "models", settings.max_running_sessions)
    app.state.runs = RunIndex(app.state.sessions)

    @app.on_event("shutdown")
    def close_sessions() -> None:
        app.state.sessions.shutdown()
        app.state.runner.close()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        body = {"detail": exc.detail}
        if getattr(exc, "errors", None):
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(problems) or "invalid request",
                             "errors": [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]},
                            status_code=422)

    @app.exception_handler(BulletError)
    async def native_error(request: Request, exc: BulletError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=NATIVE_HTTP_STATUS.get(exc.status, 500))

    for module in (system, datasets, sessions, runs, models, legacy):
        app.include_router(module.router)

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
        raise HTTPException(404, f"no route /{path}")

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(AccessGuard, settings=settings)   # added last, so it runs first
    return app
