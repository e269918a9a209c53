"""Taking files from an inbox: the journal, duplicates, refusals, sidecars, receipts, recovery."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from scanner.archive import Catalog
from scanner.config import Config, load_config
from scanner.pipeline import Pipeline, intake
from tests.capture.test_barcodes import CODE, receipt_page
from tests.conftest import configure, render_lines


@pytest.fixture
def setup(workstation: Path) -> tuple[Config, Catalog, Pipeline]:
    config = load_config(workstation)
    catalog = Catalog(config.archive.catalog_path)
    yield config, catalog, Pipeline(config, catalog)
    catalog.close()


def _reason(config: Config, name: str) -> str:
    (note,) = (config.archive.work / "quarantine").glob(f"*/{name}.reason.txt")
    return note.read_text(encoding="utf-8")


def test_take_moves_the_file_and_journals_it(setup: tuple[Config, Catalog, Pipeline]) -> None:
    config, catalog, pipeline = setup
    inbox = config.counters[0].inbox
    path = inbox / "scan.png"
    render_lines(dpi=100).save(path)
    data = path.read_bytes()
    result = pipeline.take(path, config.counters[0])
    assert result.job_id and not path.exists()
    job = catalog.job(result.job_id)
    assert job is not None and job.state == "collecting"  # the counter's open dossier
    (stored,) = (pipeline.jobs_root / result.job_id / "inputs").iterdir()
    assert stored.read_bytes() == data

    again = inbox / "scan-copy.png"
    again.write_bytes(data)
    refused = pipeline.take(again, config.counters[0])
    assert refused.job_id is None and not again.exists()
    assert "Mã lý do: duplicate" in _reason(config, "scan-copy.png")
    assert result.job_id in _reason(config, "scan-copy.png")


def test_second_file_joins_the_open_dossier_and_idle_closes_it(setup: tuple[Config, Catalog, Pipeline]) -> None:
    config, catalog, pipeline = setup
    inbox = config.counters[0].inbox
    ids = []
    for i in range(2):
        p = inbox / f"p{i}.png"
        render_lines([f"trang {i}"], dpi=100).save(p)
        ids.append(pipeline.take(p, config.counters[0]).job_id)
    assert ids[0] == ids[1]
    assert pipeline.close_idle() == []  # not idle yet (10 minutes by default)
    late = Pipeline(config, catalog, now=lambda: pipeline.now().replace(year=2099))
    assert late.close_idle() == [ids[0]]
    assert catalog.job(ids[0]).state == "received"  # type: ignore[union-attr]


def test_receipt_closes_the_open_dossier_and_starts_the_next(setup: tuple[Config, Catalog, Pipeline]) -> None:
    config, catalog, pipeline = setup
    inbox = config.counters[0].inbox
    first = inbox / "a.png"
    render_lines(dpi=100).save(first)
    open_id = pipeline.take(first, config.counters[0]).job_id
    receipt = inbox / "bien-nhan.png"
    receipt_page(f'{{"maHoSo": "{CODE}"}}').save(receipt)
    result = pipeline.take(receipt, config.counters[0])
    assert result.closed == (open_id,)
    assert result.job_id != open_id
    assert catalog.job(result.job_id).state == "collecting"  # type: ignore[union-attr, arg-type]


def test_sidecar_travels_with_its_scan(setup: tuple[Config, Catalog, Pipeline]) -> None:
    config, catalog, pipeline = setup
    inbox = config.counters[0].inbox
    scan = inbox / "to-khai.png"
    render_lines(dpi=100).save(scan)
    sidecar = inbox / "to-khai.png.json"
    sidecar.write_text(json.dumps({"dossier_code": CODE, "owner_id": "079203001234"}), encoding="utf-8")
    result = pipeline.take(scan, config.counters[0])
    assert result.job_id and not sidecar.exists()
    assert catalog.job(result.job_id).detail["sidecar"]["owner_id"] == "079203001234"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: (d / "rong.jpg").write_bytes(b""), "empty"),
        (lambda d: (d / "lớn.tif").write_bytes(b"II*\x00" + b"0" * (2 * 1024 * 1024)), "too-large"),
        (lambda d: (d / "tên\x07lạ.png").write_bytes(b"x"), "bad-name"),
        (lambda d: (d / "tên\\lạ.png").write_bytes(b"x"), "bad-name"),
        (lambda d: os.symlink("/etc/passwd", d / "lien-ket.jpg"), "symlink"),
        (lambda d: ((d / "x.png.json").write_text("{}", encoding="utf-8"), (d / "x.png").write_bytes(b"1")), None),
        # a sidecar bomb, a sidecar naming no citizen, and a name of 252 bytes that leaves no room for ".json"
        (
            lambda d: ((d / "x.png.json").write_text(" " * 300_000 + "{}"), (d / "x.png").write_bytes(b"1")),
            "bad-sidecar",
        ),
        (
            lambda d: ((d / "x.png.json").write_text('{"owner_id": "12345"}'), (d / "x.png").write_bytes(b"1")),
            "bad-sidecar",
        ),
        (lambda d: render_lines(dpi=100).save(d / ("tệp-quét-" + "a" * 238 + ".png")), None),
    ],
)
def test_refused_at_the_door(workstation: Path, make, code: str | None) -> None:
    configure(workstation, "capture", max_file_mb=1)
    config = load_config(workstation)
    inbox = config.counters[0].inbox
    make(inbox)
    path = next(p for p in sorted(inbox.iterdir()) if not p.name.endswith(".json"))
    with Catalog(config.archive.catalog_path) as catalog:
        result = Pipeline(config, catalog).take(path, config.counters[0])
    if code is None:  # a sidecar of {} is fine; the tiny "PNG" is taken and fails later, in capture
        assert result.job_id
        return
    assert result.job_id is None
    assert not os.path.lexists(path)
    notes = list((config.archive.work / "quarantine").glob("*/*.reason.txt"))
    assert len(notes) == 1 and f"Mã lý do: {code}" in notes[0].read_text(encoding="utf-8")
    if code == "symlink":
        assert Path("/etc/passwd").exists()


def test_recovery_finishes_or_undoes_half_done_takes(setup: tuple[Config, Catalog, Pipeline]) -> None:
    config, catalog, pipeline = setup
    inbox = config.counters[0].inbox
    counter = config.counters[0]
    # crash after the journal note, before the move: the file is still in the inbox
    a = inbox / "a.png"
    render_lines(["a"], dpi=100).save(a)
    job = pipeline._new_job(counter, "collecting", {})
    catalog.intake_begin(
        "0" * 64, job, counter.name, a.name, str(a), str(pipeline.jobs_root / job / "inputs" / "001.png")
    )
    # crash after the move, before the manifest: the file is in the work area only
    b = inbox / "b.png"
    render_lines(["b"], dpi=100).save(b)
    job_b = pipeline._new_job(counter, "collecting", {})
    dest = pipeline.jobs_root / job_b / "inputs" / "001.png"
    catalog.intake_begin("1" * 64, job_b, counter.name, b.name, str(b), str(dest))
    os.rename(b, dest)

    pipeline.recover()
    assert a.exists()  # will be taken again
    assert catalog.job(job).state == "abandoned"  # type: ignore[union-attr]
    assert catalog.intakes_in_progress() == []
    manifest = json.loads((pipeline.jobs_root / job_b / "inputs.json").read_text(encoding="utf-8"))
    assert [m["original_name"] for m in manifest] == ["b.png"]
    assert catalog.find_intake("1" * 64) == (job_b, None)


def test_recovery_leaves_a_copy_being_made_and_drops_one_cut_short(
    setup: tuple[Config, Catalog, Pipeline], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service starting while a clerk's `process` copies its files must not pull the job away (CI saw it)."""
    config, catalog, pipeline = setup
    scan = tmp_path / "giấy tờ.png"
    render_lines(dpi=100).save(scan)
    copy = intake.copy_durably

    def service_starts_midway(src: Path, dest: Path) -> None:
        pipeline.recover()
        copy(src, dest)

    monkeypatch.setattr(intake, "copy_durably", service_starts_midway)
    job = pipeline.submit([scan], config.counters[0])
    assert catalog.job(job).state == "received"  # type: ignore[union-attr]
    assert [s.original_name for s in pipeline.intake.folder(job).sources()] == ["giấy tờ.png"]

    def cut_short(src: Path, dest: Path) -> None:
        raise KeyboardInterrupt  # the copying process dies: nothing holds the job any more

    other = tmp_path / "khác.png"
    render_lines(["khác"], dpi=100).save(other)
    monkeypatch.setattr(intake, "copy_durably", cut_short)
    with pytest.raises(KeyboardInterrupt):
        pipeline.submit([other], config.counters[0])
    (cut,) = catalog.jobs(states=("receiving",))
    pipeline.recover()
    assert catalog.job(cut.id).state == "abandoned"  # type: ignore[union-attr]
    assert not (pipeline.jobs_root / cut.id).exists() and other.exists()


def test_pdf_with_javascript_is_quarantined(setup: tuple[Config, Catalog, Pipeline], tmp_path: Path) -> None:
    config, catalog, pipeline = setup
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    path = tmp_path / "hoa-don.pdf"
    pdf.save(path)
    outcome = pipeline.run(pipeline.submit([path], config.counters[0]))
    assert outcome.state == "quarantined"
    assert "Mã lý do: active-content" in _reason(config, "hoa-don.pdf")


def test_tiff_compressions_are_accepted(setup: tuple[Config, Catalog, Pipeline], tmp_path: Path) -> None:
    from scanner.capture.load import load_pages
    from scanner.model import SourceFile

    for compression in ("tiff_lzw", "group4", "jpeg"):
        img = render_lines(dpi=100)
        img = img.convert("1") if compression == "group4" else img
        path = tmp_path / f"{compression}.tif"
        img.save(path, compression=compression, dpi=(200, 200))
        pages = load_pages(SourceFile(path, path.name, compression * 8, path.stat().st_size), tmp_path / compression)
        assert len(pages) == 1 and Image.open(pages[0].path).size == img.size
