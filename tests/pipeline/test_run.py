"""The whole path, on a temporary workstation, with the real recognizer and signer."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pikepdf
import pytest

from scanner import codes
from scanner.archive import Catalog
from scanner.config import load_config
from scanner.pipeline import Pipeline
from tests.conftest import render_lines

CODE = re.compile(r"^[0-9A-Z.]{1,35}-\d{6}-\d{4}$")


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "giấy xác nhận.jpg"
    render_lines(dpi=200).save(path, dpi=(200, 200), quality=85)
    return path


def test_scan_is_archived_signed_pdfa_and_findable(workstation: Path, scan: Path) -> None:
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([scan], config.counters[0]))
        assert outcome.state == "archived", outcome.error
        assert outcome.dossier_code and CODE.match(outcome.dossier_code)
        (doc,) = outcome.documents
        assert doc.code == f"{outcome.dossier_code}.01"
        assert doc.path.is_relative_to(config.archive.root / "000.00.00.H32")
        assert doc.title.startswith("Giấy xác nhận"), doc.title
        hits = catalog.search("phường Bến Nghé")
        assert hits and hits[0].code == doc.code
        assert catalog.search("phuong ben nghe")[0].code == doc.code
    assert scan.exists()  # `process` copies; the clerk's file is left alone
    sig = subprocess.run(["pdfsig", str(doc.path)], capture_output=True, text=True)
    assert "Signature is Valid" in sig.stdout
    with pikepdf.open(doc.path) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "2"
        assert xmp["dc:title"] == doc.title
    text = subprocess.run(["pdftotext", str(doc.path), "-"], capture_output=True, text=True).stdout
    assert "Nguyễn Văn Thẩm" in text
    assert not list((config.archive.work / "jobs").iterdir())  # the work folder is cleaned up


def test_a_bad_file_is_quarantined_and_the_rest_of_the_dossier_kept(
    workstation: Path, scan: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "hỏng.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        outcome = pipeline.run(pipeline.submit([scan, bad], config.counters[0]))
    assert outcome.state == "archived"
    assert len(outcome.documents) == 1
    assert any("hỏng.jpg" in w for w in outcome.warnings)
    (kept,) = (config.archive.work / "quarantine").glob("*/hỏng.jpg")
    assert kept.read_bytes() == bad.read_bytes()
    reason = kept.with_name("hỏng.jpg.reason.txt").read_text(encoding="utf-8")
    assert "Mã lý do: corrupt-image" in reason and "hỏng.jpg" in reason


def test_a_job_interrupted_before_signing_resumes_with_its_code(
    workstation: Path, scan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(workstation)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies here; nothing below runs

    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        job = pipeline.submit([scan], config.counters[0])
        with monkeypatch.context() as m:
            m.setattr("scanner.pipeline.run.sign_pdf", crash)
            with pytest.raises(KeyboardInterrupt):
                pipeline.run(job)
        record = catalog.job(job)
        assert record is not None and record.state == "built"
        issued = record.dossier_code

    with Catalog(config.archive.catalog_path) as catalog:
        restarted = Pipeline(config, catalog)
        assert restarted.recover() == [job]
        outcome = restarted.run(job)
        assert outcome.state == "archived"
        assert outcome.dossier_code == issued
        assert [d.code for d in catalog.documents(issued)] == [f"{issued}.01"]


class _DyingPool(Executor):
    """A page pool whose first worker is killed (as the kernel does when memory runs out); later pages run inline."""

    def __init__(self) -> None:
        self.deaths = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: Future[object] = Future()
        if self.deaths == 0:
            self.deaths += 1
            future.set_exception(BrokenProcessPool("a worker was killed"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_dead_page_worker_costs_an_attempt_not_the_scan(workstation: Path, scan: Path) -> None:
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog, _DyingPool())
        job = pipeline.submit([scan], config.counters[0])
        first = pipeline.run(job)
        assert first.state == "failed" and first.error and "nhận dạng" in first.error
        second = pipeline.run(job)
        assert second.state == "archived", second.error


def test_an_unexpected_error_is_retried_then_parked_in_quarantine(
    workstation: Path, scan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(workstation)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("thư viện trả về điều bất ngờ")

    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        job = pipeline.submit([scan], config.counters[0])
        monkeypatch.setattr("scanner.pipeline.run.build_pdfa", broken)
        states = [pipeline.run(job).state for _ in range(config.capture.max_attempts)]
    assert states == ["failed"] * (config.capture.max_attempts - 1) + ["quarantined"]
    (kept,) = (config.archive.work / "quarantine").glob("*/giấy xác nhận.jpg")
    assert kept.read_bytes() == scan.read_bytes()  # the scan is never lost
    assert "lỗi nội bộ" in kept.with_name("giấy xác nhận.jpg.reason.txt").read_text(encoding="utf-8")


def test_a_claimed_code_ahead_of_the_counter_does_not_break_the_days_numbering(
    workstation: Path, tmp_path: Path
) -> None:
    config = load_config(workstation)
    agency = config.counters[0].agency_code
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        today = pipeline.now().date()
        claimed = codes.dossier_code(agency, today, 2)
        scans = []
        for i in range(3):
            scans.append(tmp_path / f"trang-{i}.png")
            render_lines([f"Hồ sơ thử nghiệm số {i}", "Ủy ban nhân dân phường Bến Nghé"], dpi=100).save(
                scans[-1], dpi=(100, 100)
            )
        first = pipeline.run(
            pipeline.submit([scans[0]], config.counters[0], detail={"sidecar": {"dossier_code": claimed}})
        )
        later = [pipeline.run(pipeline.submit([s], config.counters[0])) for s in scans[1:]]
    assert first.dossier_code == claimed
    assert [o.state for o in later] == ["archived", "archived"]
    assert [o.dossier_code for o in later] == [codes.dossier_code(agency, today, n) for n in (1, 3)]


class _SlowPool(Executor):
    """A page pool whose work finishes only when the test says so (a 200-page PDF still being read)."""

    def __init__(self) -> None:
        self.held: list[tuple[Future[object], object, tuple[object, ...]]] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        future: Future[object] = Future()
        self.held.append((future, fn, args))
        return future

    def finish(self) -> None:
        for future, fn, args in self.held:
            future.set_result(fn(*args))  # type: ignore[operator]
        self.held.clear()


def test_the_service_passes_over_a_dossier_whose_pages_are_still_being_read(workstation: Path, scan: Path) -> None:
    config = load_config(workstation)
    with Catalog(config.archive.catalog_path) as catalog:
        pool = _SlowPool()
        pipeline = Pipeline(config, catalog, pool)
        job = pipeline.submit([scan], config.counters[0])
        first = pipeline.run(job, wait=False)
        assert not first.ready and catalog.job(job).attempts == 0  # type: ignore[union-attr]
        assert job in pipeline.pending()  # still the service's to carry on, nothing lost or counted
        pool.finish()
        done = pipeline.run(job, wait=False)
        assert done.ready and done.state == "archived", done.error
