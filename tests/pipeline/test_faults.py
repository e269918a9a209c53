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
