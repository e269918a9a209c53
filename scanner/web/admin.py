"""Account administration (``/quan-tri``): the administrator's page for people and calling systems.

The command line's ``scanner user`` is for the first administrator; every
account after that is made here. Each form posts (with the CSRF token) to one
use case of ``scanner.app.accounts`` — add, set a temporary password,
disable, enable, unlock, add an API client — which checks the rules and
writes the audit entry with the administrator's name; this module only reads
the form and renders the list again with what happened. A refused form comes
back with its message and the values typed (never the password).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from scanner.app import Actor, Role, accounts
from scanner.archive import Catalog
from scanner.config import Config
from scanner.errors import InputError, NotFoundError
from scanner.web.auth import require_roles
from scanner.web.deps import borrowed, config
from scanner.web.templating import NAV, NavItem, page

router = APIRouter(prefix="/quan-tri", include_in_schema=False)
NAV.append(NavItem("Người dùng", "/quan-tri/nguoi-dung", (Role.ADMIN,), "9"))
admin_actor = require_roles(Role.ADMIN)

USERS = "/quan-tri/nguoi-dung"

# What the list says after an action (?tb=…), so a reload does not post the form again.
NOTICES = {
    "them": "Đã thêm người dùng {ten}.",
    "mat-khau": "Đã đặt mật khẩu tạm cho {ten}; mọi phiên của tài khoản đã kết thúc. Hãy báo mật khẩu cho người dùng.",
    "vo-hieu": "Đã vô hiệu hóa tài khoản {ten}.",
    "kich-hoat": "Đã kích hoạt lại tài khoản {ten}.",
    "mo-khoa": "Đã mở khóa tài khoản {ten}.",
}


def _render(
    request: Request,
    actor: Actor,
    cat: Catalog,
    cfg: Config,
    *,
    status_code: int = 200,
    error: str = "",
    notice: str = "",
    typed: dict[str, str] | None = None,
    new_client: accounts.NewApiClient | None = None,
) -> Response:
    agencies = sorted({c.agency_code for c in cfg.counters if c.agency_code})
    context: dict[str, Any] = {
        "people": accounts.users(actor, cat),
        "clients": accounts.api_clients(actor, cat),
        "roles": accounts.PERSON_ROLES,
        "counters": [c.name for c in cfg.counters],
        "agencies": agencies,
        "error": error,
        "notice": notice,
        "typed": typed or {},
        "new_client": new_client,
    }
    return page(request, "admin/users.html", status_code=status_code, **context)


def _done(what: str, name: str) -> Response:
    return RedirectResponse(f"{USERS}?{urlencode({'tb': what, 'ten': name})}", status_code=303)


@router.get("/nguoi-dung")
def users_page(
    request: Request,
    actor: Actor = Depends(admin_actor),
    cat: Catalog = borrowed,
    cfg: Config = Depends(config),
) -> Response:
    said = NOTICES.get(request.query_params.get("tb", ""), "")
    notice = said.format(ten=request.query_params.get("ten", "")) if said else ""
    return _render(request, actor, cat, cfg, notice=notice)


@router.post("/nguoi-dung")
def add_user(
    request: Request,
    name: str = Form(""),
    display_name: str = Form(""),
    role: str = Form(""),
    counter: str = Form(""),
    agency: str = Form(""),
    password: str = Form(""),
    actor: Actor = Depends(admin_actor),
    cat: Catalog = borrowed,
    cfg: Config = Depends(config),
) -> Response:
    typed = {"name": name, "display_name": display_name, "role": role, "counter": counter, "agency": agency}
    try:
        made = accounts.add_user(
            actor, cat, name=name, password=password, role=role, display_name=display_name,
            counter=counter, agency=agency, counters=[c.name for c in cfg.counters],
        )  # fmt: skip
    except InputError as refused:
        return _render(request, actor, cat, cfg, status_code=400, error=refused.message_vi, typed=typed)
    return _done("them", made.name)


def _account_action(
    request: Request, actor: Actor, cat: Catalog, cfg: Config, what: str, act: Any, *args: Any
) -> Response:
    try:
        view: accounts.UserView = act(actor, cat, *args)
    except (InputError, NotFoundError) as refused:
        status = 404 if isinstance(refused, NotFoundError) else 400
        return _render(request, actor, cat, cfg, status_code=status, error=refused.message_vi)
    return _done(what, view.name)


@router.post("/nguoi-dung/{name}/mat-khau")
def reset_password(
    request: Request,
    name: str,
    password: str = Form(""),
    actor: Actor = Depends(admin_actor),
    cat: Catalog = borrowed,
    cfg: Config = Depends(config),
) -> Response:
    return _account_action(request, actor, cat, cfg, "mat-khau", accounts.set_password, name, password)


# The buttons of an account's row that need nothing but the name: the last part of their URL → the use case.
ACTIONS = {"vo-hieu": accounts.disable_user, "kich-hoat": accounts.enable_user, "mo-khoa": accounts.unlock_user}


@router.post("/nguoi-dung/{name}/{action}")
def account_button(
    request: Request,
    name: str,
    action: str,
    actor: Actor = Depends(admin_actor),
    cat: Catalog = borrowed,
    cfg: Config = Depends(config),
) -> Response:
    """Vô hiệu hóa, Kích hoạt lại, Mở khóa."""
    act = ACTIONS.get(action)
    if act is None:
        raise NotFoundError(f"không có thao tác {action}", f"no account action {action}")
    return _account_action(request, actor, cat, cfg, action, act, name)


@router.post("/he-thong-api")
def add_api_client(
    request: Request,
    name: str = Form(""),
    agency: str = Form(""),
    actor: Actor = Depends(admin_actor),
    cat: Catalog = borrowed,
    cfg: Config = Depends(config),
) -> Response:
    """The new token is shown in this response only (not redirected: it must not sit in a URL or the history)."""
    try:
        made = accounts.add_api_client(actor, cat, name, agency)
    except InputError as refused:
        typed = {"client_name": name, "client_agency": agency}
        return _render(request, actor, cat, cfg, status_code=400, error=refused.message_vi, typed=typed)
    response = _render(request, actor, cat, cfg, new_client=made)
    response.headers["Cache-Control"] = "no-store"
    return response
