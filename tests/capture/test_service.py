"""The service end to end: a scan dropped into a counter's inbox ends up archived and findable."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from pathlib import Path

import pikepdf
import pytest

from scanner.archive import Catalog
from scanner.capture.watch import serve
from scanner.config import load_config
from tests.conftest import configure, render_lines, wait_until


def _wait_archived(config, n: int) -> None:  # type: ignore[no-untyped-def]
    """Until N dossiers of CONFIG's workstation are archived."""

    def archived() -> bool:
        with Catalog(config.archive.catalog_path) as cat:
            return len(cat.jobs(states=("archived",))) == n

    wait_until(archived)


def test_watcher_takes_a_scan_and_archives_it(workstation: Path, tmp_path: Path) -> None:
    configure(workstation, "capture", dossier_idle_seconds=3)
    config = load_config(workstation)
    inbox = config.counters[0].inbox
    already = inbox / "có sẵn.png"  # present before the service starts
    render_lines(dpi=200).save(already, dpi=(200, 200))

    # a scanner writing a temporary name (ignored), then renaming it once the service runs; written
    # beforehand so both settle together; the dossier closes after 3 s of quiet (a loaded CI took 2 s between them)
    tmp = inbox / "scan-0002.jpg.tmp"
    render_lines(["GIẤY KHAI SINH", "Họ và tên: Trần Thị Hồng Nhung", "Nơi sinh: Khánh Hòa"], dpi=200).save(
        tmp, format="JPEG", dpi=(200, 200)
    )
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        tmp.rename(inbox / "scan-0002.jpg")
        _wait_archived(config, 1)
    finally:
        stop.set()
        service.join(timeout=60)
    assert not service.is_alive()
    assert list(inbox.iterdir()) == []  # taken files leave the inbox only once archived work is safe

    with Catalog(config.archive.catalog_path) as cat:
        # both files joined the counter's open dossier, closed after 3 s of quiet
        (job,) = cat.jobs(states=("archived",))
        assert len(cat.documents(job.dossier_code)) == 2  # type: ignore[arg-type]
        (hit,) = cat.search("Trần Thị Hồng Nhung")
        path = config.archive.root / hit.path
        assert cat.search("tran thi hong nhung")[0].code == hit.code
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True)
    assert "Signature is Valid" in sig.stdout
    with pikepdf.open(path) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "2" and xmp["pdfaid:conformance"] == "B"


@pytest.mark.parametrize("poll_seconds", [0, 0.5], ids=["inotify", "polled-share"])
def test_slow_chunked_write_is_taken_whole(workstation: Path, tmp_path: Path, poll_seconds: float) -> None:
    """A scanner (or a copy onto a share) writes for several seconds; the file is taken only after the last chunk."""
    text = workstation.read_text(encoding="utf-8")
    text = text.replace("poll_seconds = 0 ", f"poll_seconds = {poll_seconds} ").replace(
        "settle_seconds = 2 ", "settle_seconds = 1 "
    )
    workstation.write_text(text, encoding="utf-8")
    configure(workstation, "capture", dossier_idle_seconds=0)
    config = load_config(workstation)
    assert config.counters[0].poll_seconds == poll_seconds
    source = tmp_path / "chậm.png"
    render_lines(["Ghi chậm từng phần", "Nguyễn Thị Lưu"], dpi=150).save(source, dpi=(150, 150))
    data = source.read_bytes()
    whole = hashlib.sha256(data).hexdigest()

    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        target = config.counters[0].inbox / "chậm.png"
        chunks = 6
        with target.open("wb") as out:
            for i in range(chunks):  # 6 chunks over ~4 s, each gap shorter than the settle time
                out.write(data[i * len(data) // chunks : (i + 1) * len(data) // chunks])
                out.flush()
                time.sleep(0.7)
        _wait_archived(config, 1)
    finally:
        stop.set()
        service.join(timeout=60)
    with Catalog(config.archive.catalog_path) as cat:
        assert cat.find_intake(whole) is not None  # the whole file, not a prefix of it
    assert not (config.archive.work / "quarantine").exists() or not any((config.archive.work / "quarantine").rglob("*"))


def test_a_file_still_open_for_writing_is_not_taken_however_long_the_pauses(workstation: Path, tmp_path: Path) -> None:
    """The red team's writer: chunks 1.5 s apart with a 1 s settle time, the file held open throughout."""
    text = workstation.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 1 ")
    workstation.write_text(text, encoding="utf-8")
    configure(workstation, "capture", dossier_idle_seconds=0)
    config = load_config(workstation)
    source = tmp_path / "chậm.png"
    render_lines(["Ghi rất chậm", "Phạm Văn Đồng"], dpi=150).save(source, dpi=(150, 150))
    data = source.read_bytes()
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        with (config.counters[0].inbox / "chậm.png").open("wb") as out:
            for i in range(4):
                out.write(data[i * len(data) // 4 : (i + 1) * len(data) // 4])
                out.flush()
                time.sleep(1.5)  # longer than the settle time: only the open file keeps it from being taken
        _wait_archived(config, 1)
    finally:
        stop.set()
        service.join(timeout=60)
    with Catalog(config.archive.catalog_path) as cat:
        assert cat.find_intake(hashlib.sha256(data).hexdigest()) is not None
    assert not any((config.archive.work / "quarantine").rglob("*.png"))


def test_service_keeps_running_after_an_unexpected_error(
    workstation: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A disk hiccup while taking a file is logged; the file stays in the inbox and is taken on a later round."""
    from scanner.pipeline import Pipeline

    text = workstation.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.2 ")
    workstation.write_text(text, encoding="utf-8")
    configure(workstation, "capture", dossier_idle_seconds=0)
    config = load_config(workstation)
    real_take = Pipeline.take
    failures = []

    def flaky_take(self: Pipeline, path: Path, counter):  # type: ignore[no-untyped-def]
        if not failures:
            failures.append(path.name)
            raise OSError(28, "No space left on device")
        return real_take(self, path, counter)

    monkeypatch.setattr(Pipeline, "take", flaky_take)
    monkeypatch.setattr("scanner.capture.watch.RESCAN_SECONDS", 0.5)
    render_lines(["Giấy đề nghị", "Lê Thị Mỹ Duyên"], dpi=150).save(config.counters[0].inbox / "de-nghi.png")
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        _wait_archived(config, 1)
    finally:
        stop.set()
        service.join(timeout=60)
    assert failures == ["de-nghi.png"]
    assert "dịch vụ tiếp tục chạy" in caplog.text


def test_counter_flow_bad_scan_shown_at_once_pages_recognized_while_open_then_closed(
    workstation: Path, tmp_path: Path
) -> None:
    """The clerk's counter as it runs: the dossier stays open, each page is recognized as it arrives, a truncated
    JPEG is in quarantine and on the status within seconds, and the clerk's `close` files the rest."""
    from scanner.app import Actor
    from scanner.app import counter as clerk

    text = workstation.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.5 ")
    workstation.write_text(text, encoding="utf-8")
    config = load_config(workstation)  # dossier_idle_seconds stays at its default, 600 s
    inbox = config.counters[0].inbox
    who = Actor("thu.nguyen", display_name="Nguyễn Thị Thu", counter="quay-1")

    def status() -> clerk.CounterStatus:
        with Catalog(config.archive.catalog_path) as cat:
            return clerk.status(who, clerk.Station(config, cat), counter="quay-1")

    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.1})
    service.start()
    try:
        good = tmp_path / "trang-1.jpg"
        render_lines(dpi=150).save(good, dpi=(150, 150), quality=85)
        (inbox / good.name).write_bytes(good.read_bytes())
        wait_until(lambda: any(p.recognized for d in status().dossiers for doc in d.documents for p in doc.pages))

        broken = good.read_bytes()[: len(good.read_bytes()) // 3]  # a scanner that stopped half way
        written = time.monotonic()
        (inbox / "trang-2.jpg").write_bytes(broken)
        wait_until(lambda: [q.name for q in status().quarantined] == ["trang-2.jpg"], timeout=30)
        shown_after = time.monotonic() - written
        (open_dossier,) = status().dossiers
        assert open_dossier.state.value == "collecting" and open_dossier.pages == 1
        assert any("trang-2.jpg" in w for w in open_dossier.warnings)
        assert shown_after < 5 + 0.5, shown_after  # settle time + within 5 s

        with Catalog(config.archive.catalog_path) as cat:
            clerk.close_dossier(who, clerk.Station(config, cat), "quay-1")
        _wait_archived(config, 1)
    finally:
        stop.set()
        service.join(timeout=60)
    with Catalog(config.archive.catalog_path) as cat:
        (job,) = cat.jobs(states=("archived",))
        assert [d.pages for d in cat.documents(job.dossier_code)] == [1]  # type: ignore[arg-type]
        closes = [e for e in cat.audit_entries() if e.action == "dossier-close"]
        assert [e.actor for e in closes] == [who.label]
    (kept,) = (config.archive.work / "quarantine").glob("*/trang-2.jpg")
    assert kept.read_bytes() == broken
