"""The clerk's dossier through the application layer: each page operation and field correction.

Each test builds a dossier that waits for the clerk's review (``[review] mode
= "always"``), acts on it as a named clerk, lets the service's run finish it,
and checks the signed PDF, its XMP, the catalog and the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from scanner.app import Actor
from scanner.app import counter as clerk
from scanner.archive import Catalog
from scanner.config import Config, load_config
from scanner.errors import ScannerError
from scanner.pdf import xmp
from scanner.pipeline import JobOutcome, JobState, Pipeline, intake
from scanner.pipeline.lock import hold
from scanner.tools.poppler import pdftotext
from tests.conftest import render_lines

DPI = 150
CLERK = Actor("thu.nguyen", display_name="Nguyễn Thị Thu", counter="quay-1")


def _page(path: Path, *lines: str) -> Path:
    render_lines(lines, dpi=DPI).save(path, dpi=(DPI, DPI))
    return path


def _tiff(path: Path, *pages: tuple[str, ...]) -> Path:
    images = [render_lines(lines, dpi=DPI) for lines in pages]
    images[0].save(path, save_all=True, append_images=images[1:], dpi=(DPI, DPI), compression="tiff_lzw")
    return path


@pytest.fixture
def config(workstation: Path) -> Config:
    text = workstation.read_text(encoding="utf-8").replace('mode = "never"', 'mode = "always"')
    workstation.write_text(text, encoding="utf-8")
    return load_config(workstation)


def _reviewing(config: Config, catalog: Catalog, files: list[Path]) -> tuple[Pipeline, clerk.Station, str]:
    pipeline = Pipeline(config, catalog)
    job = pipeline.submit(files, config.counters[0])
    outcome = pipeline.run(job)
    assert outcome.state == JobState.REVIEWING, outcome.error
    assert outcome.dossier_code  # issued before the review: the clerk sees it while checking
    return pipeline, clerk.Station(config, catalog, pipeline), job


def _finish(pipeline: Pipeline, station: clerk.Station, job: str) -> str:
    """ "Hoàn tất": with no service running here, the clerk's command signs and files the dossier itself."""
    view = clerk.finish(CLERK, station, job)
    assert view.state is JobState.ARCHIVED, view.error
    assert view.dossier_code
    return view.dossier_code


def _audited(catalog: Catalog, action: str) -> list[str]:
    return [e.actor for e in catalog.audit_entries() if e.action == action]


def _pages(view: clerk.DossierView) -> list[list[str]]:
    return [[p.id for p in d.pages] for d in view.documents]


def test_rotate_page_is_filed_turned(config: Config, tmp_path: Path) -> None:
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN", "Nội dung")])
        (page,) = _pages(clerk.dossier(CLERK, station, job))[0]
        view = clerk.rotate_page(CLERK, station, job, page, 90)
        assert _pages(view)[0] == [f"{page}-r90"]
        code = _finish(pipeline, station, job)
        (doc,) = catalog.documents(code)
        assert _audited(catalog, "edit-rotate") == [CLERK.label]
    with pikepdf.open(config.archive.root / doc.path) as pdf:
        box = pdf.pages[0].mediabox
        assert float(box[2]) > float(box[3])  # turned a quarter: landscape


def test_delete_page_drops_it_and_says_who(config: Config, tmp_path: Path) -> None:
    files = [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN", "Trang một"), _page(tmp_path / "b.png", "Trang thừa")]
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, files)
        pages = _pages(clerk.dossier(CLERK, station, job))
        assert len(pages) == 2
        view = clerk.delete_page(CLERK, station, job, pages[1][0])
        assert _pages(view) == [pages[0]]
        code = _finish(pipeline, station, job)
        assert len(catalog.documents(code)) == 1
        dossier = catalog.dossier(code)
        assert dossier is not None
        assert _audited(catalog, "edit-delete") == [CLERK.label]
    manifest = json.loads((config.archive.root / dossier.path / "dossier.json").read_text(encoding="utf-8"))
    assert [d["reason_code"] for d in manifest["dropped_pages"]] == ["deleted"]
    assert CLERK.label in manifest["dropped_pages"][0]["reason_vi"]


def test_move_page_changes_the_order(config: Config, tmp_path: Path) -> None:
    scan = _tiff(tmp_path / "lô.tif", ("GIẤY XÁC NHẬN", "Trang thứ nhất"), ("Trang thứ hai",))
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, [scan])
        ((first, second),) = _pages(clerk.dossier(CLERK, station, job))
        assert _pages(clerk.move_page(CLERK, station, job, second, before=first)) == [[second, first]]
        code = _finish(pipeline, station, job)
        (doc,) = catalog.documents(code)
    text = pdftotext(config.archive.root / doc.path)
    assert text.index("thứ hai") < text.index("thứ nhất")


def test_replace_page_with_a_rescan(config: Config, tmp_path: Path) -> None:
    files = [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN", "Bản quét mờ")]
    rescan = _page(tmp_path / "quét lại.png", "GIẤY XÁC NHẬN", "Bản quét lại rõ nét")
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, files)
        ((page,),) = _pages(clerk.dossier(CLERK, station, job))
        view = clerk.replace_page(CLERK, station, job, page, rescan)
        assert _pages(view) != [[page]]
        code = _finish(pipeline, station, job)
        (doc,) = catalog.documents(code)
        assert _audited(catalog, "edit-replace") == [CLERK.label]
    text = pdftotext(config.archive.root / doc.path)
    assert "rõ nét" in text and "mờ" not in text
    assert rescan.exists()  # the clerk's file is copied, not taken


def test_split_and_merge_documents(config: Config, tmp_path: Path) -> None:
    scan = _tiff(tmp_path / "lô.tif", ("GIẤY XÁC NHẬN", "Văn bản một"), ("TỜ KHAI", "Văn bản hai"))
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, [scan])
        ((first, second),) = _pages(clerk.dossier(CLERK, station, job))
        assert _pages(clerk.split_document(CLERK, station, job, second)) == [[first], [second]]
        assert _pages(clerk.merge_document(CLERK, station, job, 2)) == [[first, second]]
        assert _pages(clerk.split_document(CLERK, station, job, second)) == [[first], [second]]
        code = _finish(pipeline, station, job)
        assert [d.pages for d in catalog.documents(code)] == [1, 1]
        assert _audited(catalog, "edit-split") == [CLERK.label, CLERK.label]
        assert _audited(catalog, "edit-merge") == [CLERK.label]


def test_corrected_fields_are_signed_and_catalogued(config: Config, tmp_path: Path) -> None:
    files = [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN", "Ủy ban nhân dân phường Bến Nghé xác nhận")]
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, files)
        clerk.correct_field(CLERK, station, job, 1, "number", "15/GXN-UBND")
        clerk.correct_field(CLERK, station, job, 1, "issued_date", "05/02/2024")
        clerk.correct_field(CLERK, station, job, 1, "subject", "Xác nhận nơi cư trú")
        clerk.correct_field(CLERK, station, job, 1, "holder_name", "Nguyễn Văn Thẩm")
        view = clerk.correct_field(CLERK, station, job, 1, "valid_until", "31/12/2026")
        shown = {f.name: f.value for f in view.documents[0].fields}
        assert shown["valid_until"] == "2026-12-31" and shown["number"] == "15/GXN-UBND"
        with pytest.raises(ScannerError):
            clerk.correct_field(CLERK, station, job, 1, "valid_until", "31/13/2026")
        code = _finish(pipeline, station, job)
        (doc,) = catalog.documents(code)
        assert (doc.code_number, doc.code_notation) == ("15", "GXN-UBND")
        assert doc.issued_date == "2024-02-05" and doc.valid_until == "2026-12-31"
        assert doc.subject == "Xác nhận nơi cư trú" and doc.holder_name == "Nguyễn Văn Thẩm"
        assert doc.review == ()
        assert doc.fields["confirmed_by"] == CLERK.label
        assert _audited(catalog, "edit-field") == [CLERK.label] * 5
        assert _audited(catalog, "dossier-confirm") == [CLERK.label]
    with pikepdf.open(config.archive.root / doc.path) as pdf:
        props = xmp.read_scanner_properties(pdf)
        with pdf.open_metadata() as meta:
            title = meta["dc:title"]
    assert props["field_valid_until"] == "2026-12-31"
    assert props["field_subject"] == "Xác nhận nơi cư trú"
    assert props["field_holder_name"] == "Nguyễn Văn Thẩm"
    assert "15/GXN-UBND" in title and "Xác nhận nơi cư trú" in title


def test_procedure_and_applicant_entered_by_the_clerk(config: Config, tmp_path: Path) -> None:
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN")])
        with pytest.raises(ScannerError):
            clerk.set_details(CLERK, station, job, owner_id="12345")
        view = clerk.set_details(CLERK, station, job, procedure_code="1.000894", owner_id="079085001234")
        assert (view.procedure_code, view.owner_id) == ("1.000894", "079085001234")
        code = _finish(pipeline, station, job)
        dossier = catalog.dossier(code)
        assert dossier is not None and (dossier.procedure_code, dossier.owner_id) == ("1.000894", "079085001234")
        assert _audited(catalog, "dossier-details") == [CLERK.label]


def test_a_dossier_being_signed_cannot_be_edited(config: Config, tmp_path: Path) -> None:
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline, station, job = _reviewing(config, catalog, [_page(tmp_path / "a.png", "GIẤY XÁC NHẬN")])
        ((page,),) = _pages(clerk.dossier(CLERK, station, job))
        clerk.finish(CLERK, station, job)
        with pytest.raises(ScannerError, match="không sửa được"):
            clerk.delete_page(CLERK, station, job, page)


def test_open_dossier_pages_are_shown_as_they_are_recognized(workstation: Path, tmp_path: Path) -> None:
    config = load_config(workstation)
    inbox = config.counters[0].inbox
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        station = clerk.Station(config, catalog, pipeline)
        opened = clerk.open_dossier(CLERK, station, "quay-1", procedure_code="1.000894")
        scan = _page(inbox / "trang-1.png", "GIẤY XÁC NHẬN", "Ủy ban nhân dân phường Bến Nghé")
        bad = inbox / "hỏng.jpg"
        bad.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
        assert pipeline.take(scan, config.counters[0]).job_id == opened.job_id
        assert pipeline.take(bad, config.counters[0]).job_id == opened.job_id
        now = clerk.status(CLERK, station, counter="quay-1")
        view = now.dossiers[0]
        assert view.state is JobState.COLLECTING and view.procedure_code == "1.000894"
        assert [len(d.pages) for d in view.documents] == [1]  # the bad file is not a page of it
        assert [f.name for f in now.quarantined] == ["hỏng.jpg"]
        assert any("hỏng.jpg" in w for w in view.warnings)
        # no service here: the clerk's close files it at once (review "never")
        closed = clerk.close_dossier(CLERK, station, "quay-1")
        assert closed.state is JobState.ARCHIVED, closed.error
        assert _audited(catalog, "dossier-close") == [CLERK.label]


def test_a_dossier_opened_as_the_service_starts_is_not_dropped(
    workstation: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web station opens dossiers outside the service's process; its start-up recovery runs meanwhile."""
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        station = clerk.Station(config, catalog, pipeline)
        create = catalog.create_job

        def service_starts_now(*args: object, **kwargs: object) -> None:
            create(*args, **kwargs)  # type: ignore[arg-type]
            pipeline.recover()

        monkeypatch.setattr(catalog, "create_job", service_starts_now)
        opened = clerk.open_dossier(CLERK, station, "quay-1", procedure_code="1.000894")
        assert opened.state is JobState.COLLECTING
        assert catalog.open_job("quay-1").id == opened.job_id  # type: ignore[union-attr]
        monkeypatch.undo()
        closed = clerk.close_dossier(CLERK, station, "quay-1")  # no page came: given up by the run (no service here)
        assert closed.state is JobState.ABANDONED and closed.error == "đóng khi chưa có trang nào"


def test_a_scan_taken_as_the_clerk_closes_is_filed_not_lost(workstation: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clerk's close, from another process, lands while the service moves a scan in (CI's SIGKILL test lost one)."""
    config = load_config(workstation)
    scan = _page(config.counters[0].inbox / "trang-1.png", "GIẤY XÁC NHẬN", "Ủy ban nhân dân phường Bến Nghé")
    with Catalog(config.archive.catalog_path) as catalog, hold(config.archive.work, "dịch vụ (thử nghiệm)"):
        pipeline = Pipeline(config, catalog)
        station = clerk.Station(config, catalog, pipeline)
        move = intake.move_durably

        early: list[JobOutcome] = []

        def clerk_closes_meanwhile(src: Path, dest: Path) -> None:
            job = clerk.close_dossier(CLERK, station, "quay-1")  # the dossier's manifest is still empty
            early.append(pipeline.run(job.job_id))  # as a province's worker would, on another machine
            move(src, dest)

        monkeypatch.setattr(intake, "move_durably", clerk_closes_meanwhile)
        taken = pipeline.take(scan, config.counters[0])
        assert taken.job_id is not None
        outcome = pipeline.run(taken.job_id)
    assert [(o.state, o.ready) for o in early] == [(JobState.RECEIVED, False)]  # waits for the scan
    assert outcome.state == "archived", outcome.error
    assert [d.pages for d in outcome.documents] == [1]


def test_a_scan_chosen_for_a_dossier_the_clerk_just_closed_starts_the_next(
    workstation: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(workstation)
    scan = _page(config.counters[0].inbox / "trang-1.png", "GIẤY XÁC NHẬN", "Ủy ban nhân dân phường Bến Nghé")
    with Catalog(config.archive.catalog_path) as catalog, hold(config.archive.work, "dịch vụ (thử nghiệm)"):
        pipeline = Pipeline(config, catalog)
        station = clerk.Station(config, catalog, pipeline)
        opened = clerk.open_dossier(CLERK, station, "quay-1")
        begin = catalog.intake_begin

        def clerk_closed_first(*args: Any, **kwargs: Any) -> int | None:
            if catalog.job(opened.job_id).state == "collecting":  # type: ignore[union-attr]
                clerk.close_dossier(CLERK, station, "quay-1")
            return begin(*args, **kwargs)

        monkeypatch.setattr(catalog, "intake_begin", clerk_closed_first)
        taken = pipeline.take(scan, config.counters[0])
        assert taken.job_id not in (None, opened.job_id)
        assert pipeline.run(opened.job_id).state is JobState.ABANDONED  # nothing came into it
        pipeline.close(taken.job_id)  # type: ignore[arg-type]
        assert pipeline.run(taken.job_id).state == "archived"  # type: ignore[arg-type]


def test_a_dossier_of_blank_pages_goes_to_quarantine_not_nowhere(workstation: Path, tmp_path: Path) -> None:
    config = load_config(workstation)
    blank = tmp_path / "trắng.png"
    Image.new("RGB", (1240, 1754), "white").save(blank, dpi=(150, 150))
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([blank], config.counters[0]))
    assert outcome.state == "quarantined"
    (kept,) = (config.archive.work / "quarantine").glob("*/trắng.png")
    assert "Mã lý do: blank" in kept.with_name("trắng.png.reason.txt").read_text(encoding="utf-8")
