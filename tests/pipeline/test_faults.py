"""Faults of the workstation are never the citizen's: the scan is kept, the job waits, and goes on once fixed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scanner.app import Actor
from scanner.app import counter as clerk
from scanner.archive import Catalog
from scanner.config import load_config
from scanner.pipeline import JobState, Pipeline
from tests.conftest import render_lines


def _without(program: str, tmp_path: Path) -> str:
    """A PATH with every program of the current one except PROGRAM (links in a folder of our own)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.name != program and not (bin_dir / entry.name).exists():
                (bin_dir / entry.name).symlink_to(entry.path)
    return str(bin_dir)


def test_tesseract_missing_parks_the_dossier_and_status_says_what_is_missing(
    workstation: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(workstation)
    scan = config.counters[0].inbox / "giấy xác nhận.png"
    render_lines(dpi=150).save(scan, dpi=(150, 150))
    who = Actor("thu.nguyen", counter="quay-1")
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        station = clerk.Station(config, catalog, pipeline)
        with monkeypatch.context() as m:
            m.setenv("PATH", _without("tesseract", tmp_path))
            assert shutil.which("tesseract") is None
            job = pipeline.take(scan, config.counters[0]).job_id
            assert job is not None
            clerk.close_dossier(who, station, "quay-1")
            outcome = pipeline.run(job)
            assert outcome.state == JobState.WAITING
            again = pipeline.run(job)  # still missing: waits again, no attempt is counted
            assert again.state == JobState.WAITING
        (view,) = clerk.status(who, station, counter="quay-1").dossiers
        assert view.state is JobState.WAITING
        assert "Tesseract" in view.error and "tesseract-ocr" in view.error
        assert not (config.archive.work / "quarantine").exists()  # the citizen's scan is not blamed
        record = catalog.job(job)
        assert record is not None and record.attempts == 0

        # Tesseract is back: the service's periodic retry carries the dossier on, no restart
        assert pipeline.retry_waiting() == [job]
        assert pipeline.run(job).state == "archived"


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 16 MB file system (tmpfs) for the work area; skipped where mounting is not allowed."""
    import subprocess

    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler.bin"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_is_never_the_scans_fault_and_work_goes_on_once_freed(
    workstation: Path, tmp_path: Path, small_disk: Path
) -> None:
    from tests.conftest import configure

    configure(workstation, "archive", work=str(small_disk / "work"))
    config = load_config(workstation)
    first = config.counters[0].inbox / "trang-1.png"
    render_lines(dpi=150).save(first, dpi=(150, 150))
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        (small_disk / "work").mkdir(exist_ok=True)
        filler = _fill(small_disk, 4096)
        with pytest.raises(Exception) as refused:  # the take fails as the service's round would: retried later
            pipeline.take(first, config.counters[0])
        assert "đầy" in str(refused.value) or "No space" in str(refused.value)
        assert first.exists()  # still whole in the inbox
        assert not (config.archive.work / "quarantine").exists() or not any(
            (config.archive.work / "quarantine").rglob("*.png")
        )
        filler.unlink()

        job = pipeline.take(first, config.counters[0]).job_id
        assert job is not None and not first.exists()
        filler = _fill(small_disk, 64 * 1024)  # the disk fills while the dossier waits
        pipeline.close(job)
        outcome = pipeline.run(job)
        assert outcome.state == JobState.WAITING, outcome
        assert not any((config.archive.work / "quarantine").rglob("*.png"))
        filler.unlink()
        assert pipeline.retry_waiting() == [job]
        assert pipeline.run(job).state == "archived"


def test_an_agency_folder_on_its_own_mount_still_files_in_one_rename(workstation: Path, tmp_path: Path) -> None:
    """A province mounts each agency's archive apart: the dossier is assembled on the agency's file system."""
    import subprocess

    config = load_config(workstation)
    agency = config.archive.root / config.counters[0].agency_code
    agency.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(agency)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {done.stderr.decode(errors='replace').strip()}")
    try:
        scan = tmp_path / "giấy xác nhận.png"
        render_lines(dpi=150).save(scan, dpi=(150, 150))
        with Catalog(config.archive.catalog_path) as catalog:
            pipeline = Pipeline(config, catalog)
            outcome = pipeline.run(pipeline.submit([scan], config.counters[0]))
        assert outcome.state == "archived", outcome.error
        (doc,) = outcome.documents
        assert doc.path.is_relative_to(agency) and doc.path.exists()
        assert not any(agency.glob(".staging/*"))  # assembled there, renamed into place
    finally:
        subprocess.run(["umount", "-l", str(agency)], check=False)


def test_a_failed_attempt_is_tried_again_while_the_service_runs(
    workstation: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timedelta

    import scanner.pipeline.run as run_module

    config = load_config(workstation)
    scan = tmp_path / "giấy xác nhận.png"
    render_lines(dpi=150).save(scan, dpi=(150, 150))
    real_build = run_module.build_pdfa
    calls = []

    def once_broken(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("thư viện trả về điều bất ngờ")
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "build_pdfa", once_broken)
    with Catalog(config.archive.catalog_path) as catalog:
        pipeline = Pipeline(config, catalog)
        job = pipeline.submit([scan], config.counters[0])
        assert pipeline.run(job).state == JobState.FAILED
        assert pipeline.retry_waiting() == []  # not at once: a pause first
        later = datetime.now().astimezone() + timedelta(seconds=31)
        pipeline.now = lambda: later
        assert pipeline.retry_waiting() == [job]
        assert job in pipeline.pending()
        assert pipeline.run(job).state == "archived"
