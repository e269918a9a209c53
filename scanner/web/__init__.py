"""The web workstation: the counter station, the archive officer's workspace and the REST API, in one FastAPI app.

``create_app(config)`` builds it; ``scanner serve`` runs it with uvicorn
(and, on the embedded defaults, the service loop beside it: see
``scanner.web.serve``). The web adds no rule of its own: every page and API
call parses its input, calls a use case of ``scanner.app`` with the acting
person, and renders the typed result.

- ``auth.py`` — log-in, sessions, ``current_actor``, ``api_actor``, ``require_roles``
- ``deps.py`` — ``station`` and ``archive`` dependencies (borrowed catalogs)
- ``templating.py`` — Jinja2 templates, the menu by role, ``page()``
- ``counter.py`` — the counter station (``/quay``), ``officer.py`` — the
  archive officer's workspace (``/luu-tru``), ``api.py`` — the REST API (``/api/v1``),
  ``admin.py`` — accounts and API clients, for the administrator (``/quan-tri``)

Front-end files come from the npm registry (``scanner/web/package.json``,
installed by ``npm ci --prefix scanner/web`` in ``scripts/setup.sh``) and are
served by the app itself under ``/static/vendor/``: no CDN, no build step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from asgi_csrf import asgi_csrf_decorator as asgi_csrf
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from scanner.config import Config
from scanner.errors import LoginRefused, NotFoundError, PermissionDenied, ScannerError, WorkstationError
from scanner.web.deps import Catalogs
from scanner.web.templating import HERE, page

log = logging.getLogger("scanner.web")

# Front-end packages the pages use, by the URL prefix they are served under: (npm package, folder in it).
VENDOR = {
    "htmx": ("htmx.org", "dist"),
    "htmx-ext-sse": ("htmx-ext-sse", "dist"),
    "pdfjs": ("pdfjs-dist", "build"),  # the record page's PDF preview (officer workspace)
}
NODE_MODULES = HERE / "node_modules"
API_PREFIX = "/api/v1"

CSRF_REFUSED = (
    "Biểu mẫu thiếu mã chống giả mạo (CSRF) hoặc mã đã hết hạn. Vui lòng tải lại trang rồi thử lại."
).encode()


def create_app(config: Config) -> FastAPI:
    from scanner.web import admin, api, auth, counter, officer

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.catalogs.close()

    app = FastAPI(
        title="scanner — Bộ phận Một cửa",
        summary="API số hóa hồ sơ thủ tục hành chính cho hệ thống một cửa cấp tỉnh",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the interactive docs load their scripts from a CDN: none here
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.catalogs = Catalogs(config)
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="static")
    for prefix, (package, folder) in VENDOR.items():
        where = NODE_MODULES / package / folder
        if where.is_dir():
            app.mount(f"/static/vendor/{prefix}", StaticFiles(directory=where), name=f"vendor-{prefix}")
        else:
            log.warning("thiếu tệp giao diện %s: chạy npm ci --prefix scanner/web", package)
    app.include_router(auth.router)
    app.include_router(counter.router)
    app.include_router(officer.router)
    app.include_router(api.router)
    app.include_router(admin.router)
    _errors(app)
    app.add_middleware(
        _Csrf,
        signing_secret=_secret(config),
        always_protect={auth.LOGIN_PATH},  # a log-in form posted from elsewhere is refused too
        skip_if_scope=lambda scope: scope["path"].startswith(f"{API_PREFIX}/"),  # bearer tokens, no cookies
        send_csrf_failed=_csrf_refused,
    )
    return app


class _Csrf:
    """asgi-csrf's double-submit check as a Starlette middleware class (it ships as a wrapper function).

    asgi-csrf 0.11 reads a multipart body with a python-multipart argument that
    the current python-multipart no longer takes, so a multipart form is taken
    only with its token in the ``x-csrftoken`` header (htmx sends it: the
    page's uploads are htmx forms) and refused here otherwise, before asgi-csrf
    would try to read the body.
    """

    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = asgi_csrf(**options)(app)
        self.exempt = options.get("skip_if_scope") or (lambda scope: False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and not self.exempt(scope):
            headers = dict(scope.get("headers") or [])
            if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
                sent = headers.get(b"x-csrftoken", b"").decode("latin-1")
                if not sent or sent != _cookie(headers.get(b"cookie", b""), "csrftoken"):
                    await _csrf_refused(scope, send, None)
                    return
                await self._multipart(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _multipart(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A header token equal to a cookie whose signature is bad still sends asgi-csrf into the body: refuse."""
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except TypeError:
            if started:
                raise
            await _csrf_refused(scope, send, None)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _cookie(header: bytes, name: str) -> str:
    cookies = SimpleCookie()
    try:
        cookies.load(header.decode("latin-1"))
    except CookieError:
        return ""
    morsel = cookies.get(name)
    return morsel.value if morsel else ""


async def _csrf_refused(scope: Any, send: Callable[[Any], Awaitable[None]], message_id: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": CSRF_REFUSED})


def _secret(config: Config) -> str:
    """The key that signs CSRF tokens: kept in the work area (0600) so a restart does not void open forms."""
    path: Path = config.archive.work / "web-secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = os.urandom(32).hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value)
    return value


STATUS = ((NotFoundError, 404), (PermissionDenied, 403), (LoginRefused, 401), (WorkstationError, 503))


def status_of(exc: ScannerError) -> int:
    if exc.code == "duplicate":
        return 409
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def _errors(app: FastAPI) -> None:
    from scanner.web.auth import ApiUnauthorized, LoginRequired, login_redirect

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc.next_url)

    @app.exception_handler(ApiUnauthorized)
    async def _unauthorized(request: Request, exc: ApiUnauthorized) -> Response:
        body = {"detail": "thiếu hoặc sai khóa API (Authorization: Bearer …)", "code": "unauthorized"}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ScannerError)
    async def _scanner_error(request: Request, exc: ScannerError) -> Response:
        status = status_of(exc)
        if request.url.path.startswith(f"{API_PREFIX}/"):
            return JSONResponse({"detail": exc.message_vi, "code": exc.code}, status_code=status)
        if request.headers.get("hx-request"):
            return page(request, "_error.html", status_code=status, message=exc.message_vi)
        return page(request, "error.html", status_code=status, message=exc.message_vi)
