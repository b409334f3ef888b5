"""The web app: REST API at ``/api/v1``, the console at ``/``, health and metrics.

``create_app`` builds one FastAPI app over one installation (its store and catalog are
opened once and shared by every request). The OpenAPI schema is served at
``/api/v1/openapi.json``; the interactive docs pages are off, since they load their
scripts from a CDN that the Content-Security-Policy (and an offline install) refuses.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import posture
from posture.content import builtin_dir
from posture.errors import PostureError
from posture.operations import Operations
from posture.web import errors
from posture.web.api import fixes as fixes_api
from posture.web.api import router as api_router
from posture.web.deps import LoginRequired
from posture.web.health import router as health_router
from posture.web.health import watch_service
from posture.web.middleware import RequestContext
from posture.web.settings import WebSettings
from posture.web.state import WebState
from posture.worker.executor import use_configured_executor

API_PREFIX = "/api/v1"
#: renders an error on a console page: (request, status, code, message) -> response
ErrorPage = Callable[[Request, int, str, str], Response]


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics")


def _page_error(request: Request, status: int, code: str, message: str) -> Response:
    page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if page is not None:
        return page(request, status, code, message)
    body = f"<!doctype html><title>{status}</title><p>{escape(message)}</p>"
    return HTMLResponse(body, status_code=status)


async def _posture_error(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await errors.posture_error(request, exc)
    assert isinstance(exc, PostureError)
    status = errors.status_of(exc)
    message = errors.text(request, "error.internal") if status >= 500 else exc.message
    if status >= 500:
        errors.log.error("request %s failed: %s", errors.request_id(request), exc, exc_info=exc)
    return _page_error(request, status, errors.error_code(exc), message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await errors.validation_error(request, exc)
    return _page_error(request, 422, "validation_error", errors.text(request, "error.validation"))


async def _http_error(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return await errors.http_error(request, exc)
    assert isinstance(exc, StarletteHTTPException)
    message = (
        errors.text(request, f"error.http_{exc.status_code}")
        if exc.status_code in (404, 405)
        else str(exc.detail)
    )
    return _page_error(request, exc.status_code, "http_error", message)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(exc.location, status_code=303)


def _console_router() -> APIRouter | None:
    """The console's pages, when the console package is installed."""
    try:
        module = importlib.import_module("posture.web.console")
    except ModuleNotFoundError as exc:
        if exc.name not in ("posture.web.console",):
            raise
        return None
    router = getattr(module, "router", None)
    return router if isinstance(router, APIRouter) else None


def create_app(settings: WebSettings | None = None, *, ops: Operations | None = None) -> FastAPI:
    """The app over ``ops``'s store and catalog (tests), or over the store ``settings`` name."""
    settings = settings or WebSettings.from_env()
    if ops is None:
        # scans started through the API go to the Celery workers when a broker is configured
        ops = use_configured_executor(
            Operations(
                db_url=settings.db_url,
                policy_dirs=list(settings.policy_dirs),
                scanner_dirs=list(settings.scanner_dirs),
            )
        )
    base = ops
    state = WebState(settings=settings, base=base)
    state.oidc()  # single sign-on misconfigured (its secret's variable unset): fail at start

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # open the store and load the catalog before the first request, not during it; a
        # store that is down at start leaves the app running and /readyz saying so
        try:
            await run_in_threadpool(state.store)
            await run_in_threadpool(state.catalog)
        except PostureError as exc:
            errors.log.warning("starting without the store or catalog: %s", exc)
        watch_service(base)
        try:
            yield
        finally:
            state.close()  # waits for scans started through the API to finish
            watch_service(None)

    app = FastAPI(
        title="posture",
        summary="Security posture of cloud accounts and SaaS tenants",
        version=getattr(posture, "__version__", "0"),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.posture = state
    app.add_exception_handler(PostureError, _posture_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_middleware(RequestContext, secure=settings.secure_cookies)
    app.include_router(health_router)
    app.include_router(api_router, prefix=API_PREFIX)
    if fixes_api.available():
        app.include_router(fixes_api.router, prefix=API_PREFIX)
    static = builtin_dir("reports") / "static" / "web"
    if Path(static).is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    console = _console_router()
    if console is not None:
        app.include_router(console, include_in_schema=False)  # pages, not the API
    return app
