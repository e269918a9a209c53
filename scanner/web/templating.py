"""Pages: one Jinja2 environment, the navigation by role, and what every template can use.

Every template extends ``base.html`` and gets, besides what its handler
passes: ``actor`` (the logged-in person or None), ``nav`` (the menu entries
their role may open), ``csrf_token`` (for the hidden ``csrftoken`` field of a
form; htmx requests send it as the ``x-csrftoken`` header by themselves) and
the filters ``vn_time`` (``01/12/2026 15:04``), ``vn_date`` (``01/12/2026``) and ``percent``.
A router adds its menu entries to ``NAV`` when it is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from scanner.app import Actor, Role

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[Role, ...]
    key: str = ""  # accesskey: Alt+KEY (Alt+Shift+KEY in Firefox) opens it from anywhere


NAV: list[NavItem] = []


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [n for n in NAV if actor.role in n.roles or actor.role is Role.ADMIN]


def home_for(actor: Actor) -> str:
    """Where a person lands after logging in: the first page their role has."""
    items = nav_for(actor)
    return items[0].href if items else "/tai-khoan"


def _context(request: Request) -> dict[str, Any]:
    get_token = request.scope.get("csrftoken")
    actor = getattr(request.state, "actor", None)
    return {"csrf_token": get_token() if get_token else "", "actor": actor, "nav": nav_for(actor)}


def _vn_time(value: str | datetime | None) -> str:
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{when:%d/%m/%Y %H:%M}"


def _vn_date(value: str | None) -> str:
    """``2026-12-01`` as clerks write it, ``01/12/2026``."""
    if not value:
        return ""
    try:
        return f"{datetime.fromisoformat(value):%d/%m/%Y}"
    except ValueError:
        return value


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_context])
templates.env.filters["vn_time"] = _vn_time
templates.env.filters["percent"] = _percent
templates.env.filters["vn_date"] = _vn_date


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render TEMPLATE for REQUEST with CONTEXT (besides what every template gets)."""
    return templates.TemplateResponse(request, template, context, status_code=status_code)
