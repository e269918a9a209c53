"""The REST API (``/api/v1``) for the provincial one-stop system: submit, follow, fetch, reuse, search.

Each calling system holds a bearer token (``scanner api-client add``) scoped
to one agency: it submits under its agency's dossier codes and sees only its
agency's records — another agency's record is answered 404, as if it did not
exist (``scanner.app.rights``). The handlers call the same use cases as the
pages (``scanner.app.counter.submit`` and ``dossier``, ``scanner.app.officer``'s
``show``, ``owner``, ``search``, ``signed_file``; ``counter.reuse_paper`` for a
reused paper) and turn their dataclasses
into the typed models below, which is what the OpenAPI 3.1 document at
``/api/v1/openapi.json`` describes. Errors are ``{"detail": <Vietnamese>,
"code": <machine code>}``.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from scanner.app import Actor, officer
from scanner.app import counter as clerk
from scanner.app.counter import DossierView, Station
from scanner.app.officer import Archive
from scanner.archive.index import Filters
from scanner.errors import NotFoundError
from scanner.pipeline import JobState
from scanner.web.auth import api_actor
from scanner.web.deps import archive, station
from scanner.web.files import pdf_response


class ApiError(BaseModel):
    detail: str = Field(description="Thông báo lỗi bằng tiếng Việt")
    code: str = Field(description="Mã lỗi cho máy đọc, ví dụ not-found, usage, duplicate")


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ApiError, "description": "Yêu cầu không hợp lệ"},
    401: {"model": ApiError, "description": "Thiếu hoặc sai khóa API"},
    404: {"model": ApiError, "description": "Không có (hoặc không thuộc cơ quan của hệ thống gọi)"},
    409: {"model": ApiError, "description": "Mã hồ sơ đã được gửi trước đó"},
    503: {"model": ApiError, "description": "Sự cố máy trạm (không phải lỗi của hồ sơ); thử lại sau"},
}

router = APIRouter(prefix="/api/v1", tags=["một cửa"], responses=ERRORS)

Caller = Annotated[Actor, Depends(api_actor)]


class DocumentOut(BaseModel):
    code: str = Field(description="Mã văn bản (mã hồ sơ.NN, hoặc -KQn cho kết quả)")
    title: str
    type_name: str
    pages: int
    issued_date: str | None = None
    valid_until: str | None = None
    signer: str = Field("", description="Người ký số (chữ ký của cơ quan)")
    signed_at: str | None = None
    sha256: str
    pdf_url: str = Field(description="Đường dẫn tải tệp PDF/A đã ký số")


class DossierOut(BaseModel):
    dossier_code: str
    state: str = Field(description="Trạng thái xử lý (received, recognized, reviewing, archived, quarantined…)")
    state_vi: str = Field(description="Trạng thái bằng tiếng Việt")
    procedure_code: str
    owner_id: str
    pages: int = Field(description="Số trang đã nhận")
    error: str = ""
    warnings: list[str] = []
    documents: list[DocumentOut] = Field([], description="Các văn bản đã ký số, khi hồ sơ đã lưu trữ")


class PaperOut(BaseModel):
    code: str
    dossier_code: str
    title: str
    type_name: str
    kind: str = Field(description="paper (giấy tờ nộp) hoặc result (kết quả giải quyết)")
    number: str = Field(description="Số, ký hiệu")
    issued_date: str | None
    valid_until: str | None
    holder_name: str
    agency_name: str
    procedure_code: str
    pdf_url: str


class OwnerPapersOut(BaseModel):
    owner_id: str
    on: date = Field(description="Ngày xét hiệu lực")
    papers: list[PaperOut]


class HitOut(BaseModel):
    code: str
    title: str
    snippet: str = Field(description="Đoạn trích, từ khớp trong [ngoặc vuông]")
    dossier_code: str
    type_name: str
    kind: str
    issued_date: str | None
    valid_until: str | None
    pdf_url: str


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Số văn bản khớp (tối đa đến giới hạn đếm)")
    more: bool = Field(description="Còn nhiều hơn total")
    unsearchable: int = Field(0, description="Số văn bản mới nộp lưu chưa vào chỉ mục, chưa tìm được (0: đã tìm hết)")
    hits: list[HitOut]


def _pdf_url(code: str) -> str:
    return f"/api/v1/documents/{code}/pdf"


def _dossier_out(actor: Actor, view: DossierView, arch: Archive) -> DossierOut:
    documents: list[DocumentOut] = []
    if view.state is JobState.ARCHIVED and view.dossier_code:
        shown = officer.show(actor, view.dossier_code, archive=arch)
        documents = [
            DocumentOut(
                code=d.code, title=d.title, type_name=d.type_name, pages=d.pages, issued_date=d.issued_date,
                valid_until=d.valid_until, signer=d.signer, signed_at=d.signed_at, sha256=d.sha256,
                pdf_url=_pdf_url(d.code),
            )
            for d in shown.documents
        ]  # fmt: skip
    return DossierOut(
        dossier_code=view.dossier_code, state=view.state.value, state_vi=view.state_vi,
        procedure_code=view.procedure_code, owner_id=view.owner_id, pages=view.pages, error=view.error,
        warnings=list(view.warnings), documents=documents,
    )  # fmt: skip


@router.post("/dossiers", status_code=202, response_model=DossierOut, summary="Gửi tệp của một hồ sơ để số hóa")
def submit_dossier(
    actor: Caller,
    files: Annotated[list[UploadFile], File(description="Các tệp quét (JPEG, PNG, TIFF, PDF); mỗi tệp một văn bản")],
    dossier_code: Annotated[str, Form(description="Mã hồ sơ do hệ thống một cửa cấp", max_length=60)],
    procedure_code: Annotated[str, Form(description="Mã thủ tục hành chính, ví dụ 1.000894", max_length=60)],
    owner_id: Annotated[str, Form(description="Số định danh cá nhân hoặc mã số thuế người nộp", max_length=20)] = "",
    st: Station = Depends(station),
    arch: Archive = Depends(archive),
) -> DossierOut:
    """Nhận tệp, trả ngay (202); dịch vụ số hóa, ký số và lưu trữ — theo dõi bằng GET /dossiers/{code}."""
    with tempfile.TemporaryDirectory(prefix="scanner-api-") as tmp:
        paths, names = [], []
        for i, upload in enumerate(files, 1):
            name = Path(upload.filename or f"tep-{i}").name or f"tep-{i}"
            path = Path(tmp) / f"{i:03d}-{name}"
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            paths.append(path)
            names.append(name)
        view = clerk.submit(
            actor, st, paths, dossier_code=dossier_code, procedure_code=procedure_code, owner_id=owner_id, names=names
        )
    return _dossier_out(actor, view, arch)


@router.get("/dossiers/{dossier_code}", response_model=DossierOut, summary="Trạng thái của một hồ sơ")
def dossier_state(
    dossier_code: str, actor: Caller, st: Station = Depends(station), arch: Archive = Depends(archive)
) -> DossierOut:
    try:
        view = clerk.dossier(actor, st, dossier_code)
    except NotFoundError:
        # filed without a job here (a backfilled result, an older workstation): the archive's record answers
        shown = officer.show(actor, dossier_code, archive=arch)
        if shown.document is not None:
            raise officer.not_found(dossier_code) from None
        d = shown.dossier
        view = DossierView(
            job_id="", counter=d.counter, state=JobState.ARCHIVED, dossier_code=d.code,
            procedure_code=d.procedure_code, owner_id=d.owner_id, documents=(), warnings=d.warnings, error="",
            updated=d.created,
        )  # fmt: skip
    return _dossier_out(actor, view, arch)


class ReuseIn(BaseModel):
    document_code: str = Field(
        description="Mã văn bản còn hiệu lực đã lưu trữ (từ GET /owners/{owner_id}/papers)", min_length=1, max_length=80
    )


class ReuseOut(BaseModel):
    dossier_code: str
    document_code: str
    counted: bool = Field(description="false: văn bản này đã được ghi nhận dùng lại cho hồ sơ này trước đó")


@router.post(
    "/dossiers/{dossier_code}/reuses",
    status_code=201,
    response_model=ReuseOut,
    summary="Ghi nhận một giấy tờ đã số hóa được dùng lại cho hồ sơ (không yêu cầu nộp lại)",
)
def reuse(dossier_code: str, body: ReuseIn, actor: Caller, st: Station = Depends(station)) -> ReuseOut:
    """Tính vào chỉ tiêu «thành phần hồ sơ được tái sử dụng» (766), một lần cho mỗi hồ sơ và giấy tờ."""
    done = clerk.reuse_paper(actor, st, dossier_code, body.document_code)
    return ReuseOut(dossier_code=done.dossier_code, document_code=done.paper_code, counted=done.counted)


@router.get(
    "/documents/{code}/pdf",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}}, "description": "Tệp PDF/A đã ký số (PAdES)"}},
    summary="Tải tệp PDF/A đã ký số của một văn bản",
)
def document_pdf(code: str, actor: Caller, arch: Archive = Depends(archive)) -> FileResponse:
    return pdf_response(officer.signed_file(actor, code, archive=arch), inline=False)


@router.get("/owners/{owner_id}/papers", response_model=OwnerPapersOut, summary="Giấy tờ còn hiệu lực của một người")
def owner_papers(owner_id: str, actor: Caller, arch: Archive = Depends(archive)) -> OwnerPapersOut:
    found = officer.owner(actor, owner_id, archive=arch)
    papers = [
        PaperOut(
            code=p.code, dossier_code=p.dossier_code, title=p.title, type_name=p.type_name, kind=p.kind,
            number="/".join(x for x in (p.code_number, p.code_notation) if x), issued_date=p.issued_date,
            valid_until=p.valid_until, holder_name=p.holder_name, agency_name=p.agency_name,
            procedure_code=p.procedure_code, pdf_url=_pdf_url(p.code),
        )
        for p in found.papers
    ]  # fmt: skip
    return OwnerPapersOut(owner_id=found.owner_id, on=found.on, papers=papers)


@router.get("/search", response_model=SearchOut, summary="Tìm kiếm toàn văn (có dấu hoặc không dấu)")
def search(
    actor: Caller,
    arch: Archive = Depends(archive),
    q: Annotated[str, Query(description="Từ khóa; đặt trong ngoặc kép để tìm cụm từ", max_length=500)] = "",
    procedure: Annotated[str | None, Query(description="Mã thủ tục", max_length=60)] = None,
    doc_type: Annotated[str | None, Query(alias="type", description="Loại văn bản", max_length=100)] = None,
    owner: Annotated[str | None, Query(description="Số định danh chủ sở hữu", max_length=20)] = None,
    date_from: Annotated[date | None, Query(alias="from", description="Ngày ban hành từ")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Ngày ban hành đến")] = None,
    valid: Annotated[bool, Query(description="Chỉ văn bản còn hiệu lực hôm nay")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    filters = Filters(
        procedure=procedure or None, doc_type=doc_type or None, owner=owner or None, date_from=date_from,
        date_to=date_to, valid_on=date.today() if valid else None,
    )  # fmt: skip
    found = officer.search(actor, q, archive=arch, filters=filters, limit=limit)
    hits = [
        HitOut(
            code=h.code, title=h.title, snippet=h.snippet, dossier_code=h.dossier_code, type_name=h.type_name,
            kind=h.kind, issued_date=h.issued_date, valid_until=h.valid_until, pdf_url=_pdf_url(h.code),
        )
        for h in found.hits
    ]  # fmt: skip
    return SearchOut(query=found.query, total=found.total, more=found.more, unsearchable=found.unsearchable, hits=hits)
