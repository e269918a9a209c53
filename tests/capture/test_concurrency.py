"""Four counters, twenty-five files each, dropped at once: all processed exactly once."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from scanner.archive import Catalog
from scanner.capture.watch import serve
from scanner.config import load_config
from tests.conftest import configure, render_lines

COUNTERS = (("quay-1", "000.00.00.H32"), ("quay-2", "000.00.00.H32"), ("quay-3", "H26.1"), ("quay-4", "H26.1"))
FILES = 25


@pytest.mark.slow
def test_four_counters_at_once(workstation: Path) -> None:
    text = workstation.read_text(encoding="utf-8")
    head, _, rest = text.partition("\n[[counters]]\n")
    _, _, tail = rest.partition("\n[ocr]\n")
    counters = "".join(
        f'[[counters]]\nname = "{name}"\ninbox = "inbox/{name}"\nagency_code = "{agency}"\n'
        f'agency_name = "Cơ quan {agency}"\nsettle_seconds = 0.3\n\n'
        for name, agency in COUNTERS
    )
    workstation.write_text(head + "\n" + counters + "[ocr]\n" + tail, encoding="utf-8")
    configure(workstation, "capture", dossier_idle_seconds=0)
    configure(workstation, "clean", orientation=False)
    config = load_config(workstation)
    expected = set()
    for c in config.counters:
        c.inbox.mkdir(parents=True, exist_ok=True)
        for i in range(FILES):
            path = c.inbox / f"{c.name}-{i:02d}.png"
            render_lines([f"Quầy {c.name} tệp {i}", "Giấy đề nghị"], dpi=100).save(path, dpi=(100, 100))
            expected.add(hashlib.sha256(path.read_bytes()).hexdigest())

    stop = threading.Event()
    service = threading.Thread(target=serve, args=(config,), kwargs={"stop": stop, "tick": 0.05})
    service.start()
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with Catalog(config.archive.catalog_path) as cat:
                if len(cat.jobs(states=("archived",))) == 4 * FILES:
                    break
        else:
            raise AssertionError("not all files were processed")
    finally:
        stop.set()
        service.join(timeout=120)

    seen: list[str] = []
    by_agency: dict[str, list[int]] = {}
    for manifest in config.archive.root.glob("*/*/*/dossier.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        seen.extend(s["sha256"] for d in data["documents"] for s in d["sources"])
        by_agency.setdefault(data["agency_code"], []).append(int(data["dossier_code"].rsplit("-", 1)[1]))
    assert sorted(seen) == sorted(expected)
    for agency, numbers in by_agency.items():
        assert sorted(numbers) == list(range(1, 2 * FILES + 1)), agency
