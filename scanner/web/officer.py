"""The archive officer's workspace (``/luu-tru``): search, the record, verification, edits, deletion, export, reports.

Every handler parses its input, calls one use case of ``scanner.app.officer``
or ``scanner.app.records`` with the logged-in person, and renders what it
returns. The person's reach is the use cases' rule: another agency's record
is *not found* (404, worded as a missing one), a record whose access level
closes its content to the person is *forbidden* (403) for the file, the
preview and the export while its description stays readable.

The search page is a plain GET form, so a result list is a link an officer
can bookmark, share with a colleague of the same agency, or save under a
name (saved searches keep the same query string). Facets are links that add
or remove one filter. The PDF preview is pdf.js (``pdfjs-dist`` from the npm
registry, served by the app under ``/static/vendor/pdfjs``) drawing the
stored PDF, fetched from this app, on canvases; nothing leaves the machine.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.background import BackgroundTask

from scanner.app import Actor, Role, records
from scanner.app import officer as app
from scanner.app.officer import Archive
from scanner.app.spreadsheet import indicators_xlsx
from scanner.archive.access import AccessLevel
from scanner.archive.index import Filters
from scanner.config import Config
from scanner.errors import ConfigError, NotFoundError, ScannerError
from scanner.web.auth import require_roles
from scanner.web.deps import archive, config
from scanner.web.files import pdf_response
from scanner.web.templating import NAV, NavItem, page, templates

router = APIRouter(prefix="/luu-tru", include_in_schema=False)

READERS = (Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR)
NAV.extend(
    [
        NavItem("Tra cứu lưu trữ", "/luu-tru", READERS, "4"),
        NavItem("Báo cáo số hóa", "/luu-tru/bao-cao", READERS, "5"),
    ]
)
reader = require_roles(*READERS)

# What a page says after an action that redirected back to it (``?tb=``).
NOTICES = {
    "da-sua": "Đã lưu thay đổi (ghi vào nhật ký kiểm toán).",
    "khong-doi": "Không có gì thay đổi.",
    "kiem-tra-dat": "Kiểm tra xong: các tệp toàn vẹn, chữ ký hợp lệ.",
    "kiem-tra-loi": "Kiểm tra xong: có tệp không toàn vẹn hoặc chữ ký không hợp lệ — xem bảng bên dưới.",
    "da-de-nghi-huy": "Đã gửi đề nghị hủy; cần một cán bộ khác phê duyệt.",
    "da-phe-duyet-huy": "Đã phê duyệt đề nghị hủy.",
    "da-luu-tim-kiem": "Đã lưu tìm kiếm.",
}

FILTER_KEYS = ("agency", "procedure", "type", "year", "validity", "access")
_MARK = re.compile(r"\[([^\[\]]+)\]")


def highlight(snippet: str) -> Markup:
    """A snippet's ``[matched]`` words as ``<mark>``; everything else escaped."""
    return Markup(_MARK.sub(lambda m: f"<mark>{m.group(1)}</mark>", str(escape(snippet))))


def vn_date(value: str | None) -> str:
    """``2025-07-01`` as ``01/07/2025``; anything else as it is."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value


templates.env.filters["highlight"] = highlight
templates.env.filters["vn_date"] = vn_date


# --- search ------------------------------------------------------------------------------------


def _params(request: Request) -> dict[str, str]:
    """The search page's own parameters from the query string, empty ones dropped."""
    keep = ("q", *FILTER_KEYS, "sort", "page", "size")
    return {k: v.strip() for k, v in request.query_params.items() if k in keep and v.strip()}


def _filters(p: dict[str, str]) -> Filters:
    year = p.get("year", "")
    if year and not (year.isdigit() and len(year) == 4):
        raise ConfigError(f"năm không hợp lệ: {year}", f"bad year {year!r}", code="usage")
    return Filters(
        agency=p.get("agency"),
        procedure=p.get("procedure"),
        doc_type=p.get("type"),
        year=int(year) if year else None,
        validity=p.get("validity"),
        access=p.get("access"),
    )


def _href(p: dict[str, str], **changes: str | None) -> str:
    """This page's URL with CHANGES (None removes a parameter); any change of filter goes back to page 1."""
    out = {k: v for k, v in p.items() if k != "page"}
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return "/luu-tru?" + urlencode(out) if out else "/luu-tru"


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    selected: bool
    href: str


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


@router.get("")
def search_page(request: Request, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    p = _params(request)
    result = app.search_page(
        actor,
        p.get("q", ""),
        archive=arch,
        filters=_filters(p),
        sort=p.get("sort", "relevance"),
        page=_int(p.get("page"), 1),
        size=_int(p.get("size"), 20),
    )
    facets = [
        (
            f,
            [
                FacetLink(v.label, v.count, v.selected, _href(p, **{f.name: None if v.selected else v.value}))
                for v in f.values
            ],
        )
        for f in result.facets
        if f.values
    ]
    chosen = [(app.FACET_LABELS[k], _label(k, p[k]), _href(p, **{k: None})) for k in FILTER_KEYS if k in p]
    return page(
        request,
        "officer/search.html",
        p=p,
        result=result,
        facets=facets,
        chosen=chosen,
        sorts=[(k, v, _href(p, sort=k)) for k, v in app.SORTS_VI.items()],
        pages=[(n, _href(p, page=str(n))) for n in _window(result.page, result.pages)],
        prev=_href(p, page=str(result.page - 1)) if result.page > 1 else "",
        next=_href(p, page=str(result.page + 1)) if result.page < result.pages else "",
        saved=app.saved_searches(actor, archive=arch),
        query_string=urlencode(p),
        notice=NOTICES.get(request.query_params.get("tb", ""), ""),
    )


def _label(key: str, value: str) -> str:
    if key == "validity":
        return app.VALIDITY_VI.get(value, value)
    if key == "access":
        return next((a.label_vi for a in AccessLevel if a.value == value), value)
    return value


def _window(current: int, last: int, width: int = 7) -> list[int]:
    start = max(1, min(current - width // 2, last - width + 1))
    return list(range(start, min(last, start + width - 1) + 1))


@router.post("/tim-kiem-da-luu")
def save_search(
    name: str = Form(""), query: str = Form(""), actor: Actor = Depends(reader), arch: Archive = Depends(archive)
) -> Response:
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(query))
    params.pop("page", None)
    app.save_search(actor, name, params.pop("q", ""), params, archive=arch)
    return RedirectResponse(f"/luu-tru?{query}&tb=da-luu-tim-kiem" if query else "/luu-tru", status_code=303)


@router.get("/tim-kiem-da-luu/{search_id}")
def open_saved(search_id: int, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    found = next((s for s in app.saved_searches(actor, archive=arch) if s.id == search_id), None)
    if found is None:
        raise NotFoundError(f"không có tìm kiếm được lưu số {search_id}", f"no saved search {search_id}")
    params = {"q": found.query, **found.params} if found.query else dict(found.params)
    return RedirectResponse(_href({k: str(v) for k, v in params.items()}), status_code=303)


@router.post("/tim-kiem-da-luu/{search_id}/xoa")
def delete_saved(search_id: int, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    app.delete_saved_search(actor, search_id, archive=arch)
    return RedirectResponse("/luu-tru", status_code=303)


# --- the record ----------------------------------------------------------------------------------


def _record_context(actor: Actor, code: str, arch: Archive) -> dict[str, Any]:
    shown = app.show(actor, code, archive=arch)
    current = shown.document or next(iter(shown.documents), None)
    pending = records.pending_deletions(actor, archive=arch, code=shown.dossier.code)
    return {
        "shown": shown,
        "current": current,
        "integrity": app.integrity(actor, code, archive=arch),
        "history": records.history(actor, code, archive=arch, limit=100),
        "pending": pending[0] if pending else None,
        "levels": list(AccessLevel),
        "retentions": app.RETENTIONS,
        "editor": actor.role in app.EDITORS,
    }


@router.get("/ho-so/{code}")
def record(request: Request, code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    context = _record_context(actor, code, arch)
    notice = NOTICES.get(request.query_params.get("tb", ""), "")
    return page(request, "officer/record.html", code=code, notice=notice, **context)


def _pdf(actor: Actor, code: str, arch: Archive, purpose: str) -> FileResponse:
    opened = app.open_pdf(actor, code, archive=arch, purpose=purpose)
    return pdf_response(opened, inline=purpose == "preview", headers={"Cache-Control": "private, no-store"})


@router.get("/ho-so/{code}/xem")
def preview(code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    return _pdf(actor, code, arch, "preview")


@router.get("/ho-so/{code}/tai-ve")
def download(code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    return _pdf(actor, code, arch, "download")


@router.post("/ho-so/{code}/kiem-tra")
def verify_now(
    request: Request, code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive)
) -> Response:
    report = app.verify(actor, [code], archive=arch)
    integrity = app.integrity(actor, code, archive=arch)
    if request.headers.get("hx-request"):
        return page(request, "officer/_integrity.html", code=code, integrity=integrity, report=report)
    return RedirectResponse(f"/luu-tru/ho-so/{code}?tb=" + ("kiem-tra-dat" if report.ok else "kiem-tra-loi"), 303)


@router.post("/ho-so/{code}/sua")
def edit(
    code: str,
    retention: str = Form(""),
    access: str = Form(""),
    description: str = Form(""),
    actor: Actor = Depends(reader),
    arch: Archive = Depends(archive),
) -> Response:
    done = app.edit(actor, code, archive=arch, retention=retention, access=access, description=description)
    return RedirectResponse(f"/luu-tru/ho-so/{code}?tb=" + ("da-sua" if done.changes else "khong-doi"), 303)


@router.post("/ho-so/{code}/de-nghi-huy")
def request_deletion(
    code: str, reason: str = Form(""), actor: Actor = Depends(reader), arch: Archive = Depends(archive)
) -> Response:
    dossier, _ = app.record_of(actor, code, arch)
    records.request_deletion(actor, dossier.code, reason, archive=arch)
    return RedirectResponse(f"/luu-tru/ho-so/{code}?tb=da-de-nghi-huy", 303)


@router.post("/ho-so/{code}/phe-duyet-huy")
def approve_deletion(code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    dossier, _ = app.record_of(actor, code, arch)
    records.approve_deletion(actor, dossier.code, archive=arch)
    return RedirectResponse(f"/luu-tru/ho-so/{code}?tb=da-phe-duyet-huy", 303)


@router.post("/ho-so/{code}/xuat")
def export(
    code: str, actor: Actor = Depends(reader), arch: Archive = Depends(archive), cfg: Config = Depends(config)
) -> Response:
    """The dossier as a validated BagIt bag, zipped for the download; the bag is made in the work area."""
    dossier, _ = app.record_of(actor, code, arch)
    cfg.archive.work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="xuat-", dir=cfg.archive.work))
    try:
        bag = app.export(actor, dossier.code, scratch / "bag", archive=arch).bag
        archive_file = shutil.make_archive(str(scratch / dossier.code), "zip", root_dir=bag.parent, base_dir=bag.name)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return FileResponse(
        archive_file,
        media_type="application/zip",
        filename=f"{dossier.code}.bagit.zip",
        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True),
    )


# --- reports -------------------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"ngày không hợp lệ: {value}", f"bad date {value!r}", code="usage") from None


def _indicators(request: Request, actor: Actor, arch: Archive) -> records.Indicators:
    q = request.query_params
    return records.indicators(
        actor, archive=arch, since=_day(q.get("tu")), until=_day(q.get("den")), agency=q.get("co_quan") or None
    )


@router.get("/bao-cao")
def reports(request: Request, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    try:
        found = _indicators(request, actor, arch)
        error = ""
    except ScannerError as exc:
        found, error = records.indicators(actor, archive=arch), exc.message_vi
    peak = max([1, *(max(m.received, m.components, m.results, m.reused) for m in found.by_month)])
    return page(
        request,
        "officer/reports.html",
        report=found,
        peak=peak,
        error=error,
        q=dict(request.query_params),
        xlsx="/luu-tru/bao-cao.xlsx" + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.get("/bao-cao.xlsx")
def reports_xlsx(request: Request, actor: Actor = Depends(reader), arch: Archive = Depends(archive)) -> Response:
    found = _indicators(request, actor, arch)
    name = f"bao-cao-so-hoa-{found.since:%Y%m%d}-{found.until:%Y%m%d}.xlsx"
    return Response(
        indicators_xlsx(found),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
