"""Who is asking: the session behind a page request, the token behind an API call, and role checks.

- ``current_actor`` — for pages: the person whose session cookie came with
  the request (``scanner.app.Actor`` with role, counter and agency from the
  account). Without a live session a page is redirected to the log-in page
  (an htmx request gets ``HX-Redirect`` so the whole page moves).
- ``api_actor`` — for ``/api/v1``: the calling system of the bearer token,
  acting for its agency; 401 without a valid token.
- ``require_roles(*roles)`` — a dependency that yields the actor when their
  role is one of ROLES (an administrator passes everywhere), 403 otherwise.

The log-in and log-out pages are here too. Their rules (lock after ten wrong
passwords, Argon2, sessions ended on disable) are ``scanner.app.accounts``'.
CSRF is the app's middleware (``scanner.web.create_app``): every POST from a
page carries the token, the API is exempt because it takes no cookies.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scanner.app import Actor, Role, accounts
from scanner.archive import Catalog
from scanner.errors import LoginRefused, PermissionDenied, ScannerError
from scanner.web.deps import borrowed
from scanner.web.templating import home_for, page

SESSION_COOKIE = "scanner_session"
LOGIN_PATH = "/dang-nhap"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No live session behind a page request: answered by a redirect to the log-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class ApiUnauthorized(Exception):
    """No valid bearer token behind an API call: answered 401."""


def current_actor(request: Request, cat: Catalog = borrowed) -> Actor:
    actor = accounts.session_actor(cat, request.cookies.get(SESSION_COOKIE, ""))
    if actor is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    request.state.actor = actor
    return actor


_bearer = HTTPBearer(auto_error=False, description="Khóa API do quản trị viên cấp (scanner api-client add)")


def api_actor(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    cat: Catalog = borrowed,
) -> Actor:
    actor = accounts.api_actor(cat, credentials.credentials if credentials else "")
    if actor is None:
        raise ApiUnauthorized()
    request.state.actor = actor
    return actor


def require_roles(*roles: Role) -> Callable[..., Actor]:
    """A dependency: the logged-in person, if their role is one of ROLES (or administrator)."""

    def check(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role in roles or actor.role is Role.ADMIN:
            return actor
        raise PermissionDenied(
            f"vai trò {actor.role.label_vi} không được mở trang này", f"role {actor.role} may not open this page"
        )

    return check


def login_redirect(request: Request, next_url: str) -> Response:
    target = f"{LOGIN_PATH}?next={quote(next_url)}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _safe_next(next_url: str) -> str:
    """Only a path on this site: a log-in link must not send the person elsewhere."""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or not next_url.startswith("/") or next_url.startswith("//"):
        return ""
    return next_url


@router.get(LOGIN_PATH)
def login_page(request: Request, next: str = "") -> Response:
    return page(request, "login.html", next=_safe_next(next), error="", name="")


@router.post(LOGIN_PATH)
def login(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
    cat: Catalog = borrowed,
) -> Response:
    try:
        done = accounts.log_in(cat, name, password)
    except LoginRefused as refused:
        return page(request, "login.html", status_code=401, next=_safe_next(next), error=refused.message_vi, name=name)
    response = RedirectResponse(_safe_next(next) or home_for(done.actor), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/dang-xuat")
def logout(request: Request, actor: Actor = Depends(current_actor), cat: Catalog = borrowed) -> Response:
    accounts.log_out(actor, cat, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(actor: Actor = Depends(current_actor)) -> Response:
    return RedirectResponse(home_for(actor), status_code=303)


@router.get("/tai-khoan")
def account(request: Request, actor: Actor = Depends(current_actor)) -> Response:
    return page(request, "account.html", error="")


@router.post("/tai-khoan/mat-khau")
def change_password(
    request: Request,
    current: str = Form(""),
    password: str = Form(""),
    actor: Actor = Depends(current_actor),
    cat: Catalog = borrowed,
) -> Response:
    try:
        accounts.change_own_password(actor, cat, current, password)
    except ScannerError as refused:
        return page(request, "account.html", status_code=400, error=refused.message_vi)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
