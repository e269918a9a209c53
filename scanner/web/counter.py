"""The counter station (``/quay``): the open dossier live, its pages and fields, finishing it, reuse, quarantine.

Every handler calls one use case of ``scanner.app.counter`` (or
``officer.owner`` / ``officer.signed_file`` for "Đã số hóa?", or
``scanner.app.quarantine``) with the logged-in clerk, and renders the view it
returns; the clerk's reach (their own counter only, another counter's
dossier answered 404) is the use cases' rule.

The open dossier is live: ``/quay/su-kien`` is a server-sent event stream
that looks at the counter twice a second and sends the dossier panel again
whenever it changed (a page taken, recognized, refused; a field read). The
page swaps it in with htmx's SSE extension, except while the clerk is typing
a correction in it (the panel is then fetched again when they leave the
field), so a page arriving never wipes what is being typed. Page and field
actions post with htmx and get the re-rendered panel back.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import segno
from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from PIL import Image
from starlette.concurrency import run_in_threadpool

from scanner.app import Actor, Role, officer, quarantine
from scanner.app import counter as clerk
from scanner.app.counter import CounterStatus, DossierView, Station
from scanner.app.officer import Archive
from scanner.config import Config
from scanner.errors import InputError
from scanner.pipeline import JobState
from scanner.web.auth import require_roles
from scanner.web.deps import archive, catalogs, config, station
from scanner.web.files import pdf_response
from scanner.web.templating import NAV, NavItem, page, templates

router = APIRouter(prefix="/quay", include_in_schema=False)

CLERKS = (Role.CLERK, Role.SUPERVISOR)
NAV.extend(
    [
        NavItem("Quầy tiếp nhận", "/quay", CLERKS, "1"),
        NavItem("Đã số hóa?", "/quay/da-so-hoa", CLERKS, "2"),
        NavItem("Cách ly", "/quay/cach-ly", CLERKS, "3"),
    ]
)
clerk_actor = require_roles(*CLERKS)

LIVE_SECONDS = 0.5  # how often the stream looks at the counter
THUMB_WIDTH = 244  # twice the width shown, for sharp thumbnails on any screen
LIVE_STATES = (JobState.COLLECTING, JobState.REVIEWING)


def _counter_of(actor: Actor, cfg: Config, asked: str | None) -> str:
    """The counter a page shows: a clerk's own; for a supervisor, the one asked for or the first."""
    if actor.counter:
        return actor.counter
    return asked or cfg.counters[0].name


def _current(status: CounterStatus) -> DossierView | None:
    """The dossier the clerk is working on: the open one, else the oldest one waiting for their review."""
    live = [d for d in status.dossiers if d.state in LIVE_STATES]
    return live[0] if live else None


def _live_context(actor: Actor, st: Station, counter: str) -> dict[str, Any]:
    status = clerk.status(actor, st, counter=counter, limit=12)
    current = _current(status)
    others = [d for d in status.dossiers if d is not current]
    held = quarantine.held(actor, st, counter=counter)
    return {"counter": counter, "current": current, "others": others, "quarantined": held[:5]}


@router.get("")
@router.get("/khung")
def station_page(
    request: Request,
    quay: str | None = None,
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    cfg: Config = Depends(config),
) -> Response:
    """The station; ``/khung`` the live panel alone (what the stream sends), fetched after the clerk leaves a field."""
    counter = _counter_of(actor, cfg, quay)
    template = "counter/_live.html" if request.url.path.endswith("/khung") else "counter/station.html"
    return page(request, template, **_live_context(actor, st, counter))


@router.get("/su-kien")
async def live_events(request: Request, quay: str | None = None, actor: Actor = Depends(clerk_actor)) -> Response:
    """Server-sent events: the live panel each time it changes (``event: ho-so``), a comment as keep-alive."""
    cfg: Config = request.app.state.config
    counter = _counter_of(actor, cfg, quay)
    pool = catalogs(request)
    template = templates.env.get_template("counter/_live.html")
    csrf = request.scope.get("csrftoken")

    def render() -> str:
        with pool.borrow() as cat:
            context = _live_context(actor, Station(cfg, cat), counter)
        return template.render(request=request, actor=actor, csrf_token=csrf() if csrf else "", **context)

    async def stream() -> AsyncIterator[str]:
        last, quiet = "", 0.0
        while not await request.is_disconnected():
            html = await run_in_threadpool(render)
            if html != last:
                last, quiet = html, 0.0
                data = "".join(f"data: {line}\n" for line in html.splitlines())
                yield f"event: ho-so\nid: {time.time():.3f}\n{data}\n"
            elif quiet > 15:
                quiet = 0.0
                yield ": con sống\n\n"  # keeps proxies from closing a quiet stream
            await asyncio.sleep(LIVE_SECONDS)
            quiet += LIVE_SECONDS

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


# --- the dossier and its pages ------------------------------------------------------------------


def _panel(request: Request, actor: Actor, st: Station, view: DossierView) -> Response:
    """After an action: the live panel of the dossier's counter, as the stream would send it."""
    return page(request, "counter/_live.html", **_live_context(actor, st, view.counter))


@router.post("/mo")
def open_dossier(
    request: Request,
    quay: str = Form(""),
    procedure_code: str = Form(""),
    owner_id: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    cfg: Config = Depends(config),
) -> Response:
    view = clerk.open_dossier(
        actor, st, _counter_of(actor, cfg, quay), procedure_code=procedure_code.strip(), owner_id=owner_id.strip()
    )
    return _panel(request, actor, st, view)


@router.get("/ho-so/{job}")
def dossier_page(
    request: Request, job: str, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)
) -> Response:
    view = clerk.dossier(actor, st, job)
    if view.state in LIVE_STATES:
        return page(request, "counter/station.html", **_live_context(actor, st, view.counter))
    return RedirectResponse(f"/quay/ho-so/{view.job_id}/phieu", status_code=303)


@router.post("/ho-so/{job}/thong-tin")
def set_details(
    request: Request,
    job: str,
    procedure_code: str = Form(""),
    owner_id: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    view = clerk.set_details(actor, st, job, procedure_code=procedure_code, owner_id=owner_id)
    return _panel(request, actor, st, view)


@router.post("/ho-so/{job}/trang/{page_id}/xoay")
def rotate(
    request: Request,
    job: str,
    page_id: str,
    degrees: int = Form(90),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    return _panel(request, actor, st, clerk.rotate_page(actor, st, job, page_id, degrees))


@router.post("/ho-so/{job}/trang/{page_id}/xoa")
def delete(
    request: Request, job: str, page_id: str, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)
) -> Response:
    return _panel(request, actor, st, clerk.delete_page(actor, st, job, page_id))


@router.post("/ho-so/{job}/trang/{page_id}/chuyen")
def move(
    request: Request,
    job: str,
    page_id: str,
    before: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    return _panel(request, actor, st, clerk.move_page(actor, st, job, page_id, before=before))


@router.post("/ho-so/{job}/trang/{page_id}/tach")
def split(
    request: Request, job: str, page_id: str, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)
) -> Response:
    return _panel(request, actor, st, clerk.split_document(actor, st, job, page_id))


@router.post("/ho-so/{job}/trang/{page_id}/thay")
def replace(
    request: Request,
    job: str,
    page_id: str,
    file: UploadFile,
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    """A rescan of one page, uploaded, put in the place of PAGE_ID (the upload is copied into the job)."""
    name = Path(file.filename or "trang-quet-lai").name
    with tempfile.TemporaryDirectory(prefix="scanner-thay-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        if path.stat().st_size == 0:
            raise InputError(name, "tệp quét lại trống", "empty rescan", code="empty")
        view = clerk.replace_page(actor, st, job, page_id, path)
    return _panel(request, actor, st, view)


@router.post("/ho-so/{job}/van-ban/{ordinal}/gop")
def merge(
    request: Request, job: str, ordinal: int, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)
) -> Response:
    return _panel(request, actor, st, clerk.merge_document(actor, st, job, ordinal))


@router.post("/ho-so/{job}/van-ban/{ordinal}/truong")
def correct(
    request: Request,
    job: str,
    ordinal: int,
    name: str = Form(...),
    value: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    return _panel(request, actor, st, clerk.correct_field(actor, st, job, ordinal, name, value))


@router.post("/ho-so/{job}/hoan-tat")
def finish(request: Request, job: str, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)) -> Response:
    """ "Hoàn tất": the service signs and files the dossier; the clerk goes to its slip, which fills in when filed."""
    view = clerk.finish(actor, st, job)
    target = f"/quay/ho-so/{view.job_id}/phieu"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/ho-so/{job}/phieu")
def slip(
    request: Request,
    job: str,
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    arch: Archive = Depends(archive),
) -> Response:
    """The printable slip: the dossier code and its QR once filed; until then, where the dossier stands."""
    view = clerk.dossier(actor, st, job)
    filed = view.state is JobState.ARCHIVED and view.dossier_code
    shown = officer.show(actor, view.dossier_code, archive=arch) if filed else None
    qr = segno.make(view.dossier_code, error="m").svg_inline(scale=4, title=view.dossier_code) if filed else ""
    template = "counter/_slip.html" if request.headers.get("hx-request") else "counter/slip.html"
    return page(request, template, view=view, shown=shown, qr=qr)


@router.get("/anh/{job}/{page_id}.jpg")
def thumbnail(job: str, page_id: str, actor: Actor = Depends(clerk_actor), st: Station = Depends(station)) -> Response:
    """A page's thumbnail, made once from the page image and kept in the work area's cache."""
    source = clerk.page_image(actor, st, job, page_id)
    cached = st.config.archive.work / "web-cache" / "thumbs" / job / f"{page_id}.jpg"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(source) as im:
            im.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 3 // 2))
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "JPEG", quality=80)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(cached)  # two requests for one thumbnail never show a half-written file
    return FileResponse(cached, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


# --- "Đã số hóa?" and the signed PDF -------------------------------------------------------------


def _reuse_page(
    request: Request, actor: Actor, st: Station, arch: Archive, cfg: Config, owner_id: str, quay: str | None,
    *, done: clerk.Reused | None = None,
) -> Response:  # fmt: skip
    found = officer.owner(actor, owner_id.strip(), archive=arch) if owner_id.strip() else None
    counter = _counter_of(actor, cfg, quay)
    current = _current(clerk.status(actor, st, counter=counter, limit=12)) if found else None
    return page(request, "counter/reuse.html", owner_id=owner_id, found=found, current=current, done=done)


@router.get("/da-so-hoa")
def reuse(
    request: Request,
    owner_id: str = "",
    quay: str | None = None,
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    arch: Archive = Depends(archive),
    cfg: Config = Depends(config),
) -> Response:
    """An applicant's still-valid papers by their ID, so the citizen is not asked for them again."""
    return _reuse_page(request, actor, st, arch, cfg, owner_id, quay)


@router.post("/da-so-hoa/dung-lai")
def reuse_paper(
    request: Request,
    job: str = Form(...),
    paper: str = Form(...),
    owner_id: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    arch: Archive = Depends(archive),
    cfg: Config = Depends(config),
) -> Response:
    """ "Dùng lại cho hồ sơ này": the paper counts for the open dossier (766 "tái sử dụng"), not asked for again."""
    done = clerk.reuse_paper(actor, st, job, paper)
    counter = clerk.dossier(actor, st, job).counter
    return _reuse_page(request, actor, st, arch, cfg, owner_id, counter, done=done)


@router.get("/van-ban/{code}.pdf")
def signed_pdf(code: str, actor: Actor = Depends(clerk_actor), arch: Archive = Depends(archive)) -> Response:
    return pdf_response(officer.signed_file(actor, code, archive=arch), inline=True)


# --- quarantine ---------------------------------------------------------------------------------


@router.get("/cach-ly")
def quarantine_page(
    request: Request,
    quay: str | None = None,
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
    cfg: Config = Depends(config),
) -> Response:
    counter = _counter_of(actor, cfg, quay)
    files = quarantine.held(actor, st, counter=counter)
    return page(request, "counter/quarantine.html", counter=counter, files=files, done="")


@router.post("/cach-ly/xu-ly-lai")
def quarantine_retry(
    request: Request,
    item: str = Form(...),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    done = quarantine.retry(actor, st, item)
    files = quarantine.held(actor, st, counter=done.counter)
    return page(request, "counter/quarantine.html", counter=done.counter, files=files, done=done.message)


@router.post("/cach-ly/tra-lai")
def quarantine_release(
    request: Request,
    item: str = Form(...),
    reason: str = Form(""),
    actor: Actor = Depends(clerk_actor),
    st: Station = Depends(station),
) -> Response:
    done = quarantine.release(actor, st, item, reason)
    files = quarantine.held(actor, st, counter=done.counter)
    return page(request, "counter/quarantine.html", counter=done.counter, files=files, done=done.message)
