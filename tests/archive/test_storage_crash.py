"""Filing to S3 under SIGKILL: the service killed at random moments while each scan becomes a dossier in a bucket.

Each file is its own dossier (``dossier_idle_seconds = 0``) and nothing waits
for review, so most kills land while a dossier is recognized, signed or
uploaded, or between the upload and the catalog. After a last run every scan
is filed once, every catalog row's object is there with its SHA-256 and
only one version, and the bucket holds nothing the catalog does not list: no
partial object, no second copy.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.archive import Catalog
from scanner.archive.storage import open_storage
from scanner.config import load_config
from scanner.pipeline import JobState
from tests.archive.s3 import KEY, KEY_ENV, SECRET, SECRET_ENV, S3Server, dossier_keys, running_s3
from tests.capture.test_crash import _fast_config, _kill, _start
from tests.conftest import configure, render_lines

KILLS = 10


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    monkeypatch.setenv(KEY_ENV, KEY)  # the service, a child process, reads its keys from here
    monkeypatch.setenv(SECRET_ENV, SECRET)
    yield from running_s3()


@pytest.mark.slow
def test_sigkill_while_filing_to_s3_files_each_scan_once_and_leaves_no_stray_object(
    workstation: Path, tmp_path: Path, s3: S3Server
) -> None:
    _fast_config(workstation)
    configure(workstation, "review", mode="never")
    configure(workstation, "capture", dossier_idle_seconds=0)
    bucket = s3.bucket()
    configure(workstation, "storage", kind="s3", bucket=bucket, endpoint=s3.endpoint, region="us-east-1",
              access_key_env=KEY_ENV, secret_key_env=SECRET_ENV, lock_mode="COMPLIANCE")  # fmt: skip
    config = load_config(workstation)
    inbox, log, rng = config.counters[0].inbox, tmp_path / "service.log", random.Random(20261201)
    expected: set[str] = set()

    for i in range(KILLS):
        img = render_lines([f"Hồ sơ lưu vào kho S3 số {i}", "Ủy ban nhân dân phường Bến Nghé"], dpi=100)
        img.save(inbox / f".trang-{i:02d}.png", format="PNG", dpi=(100, 100))
        (inbox / f".trang-{i:02d}.png").rename(inbox / f"trang-{i:02d}.png")
        expected.add(hashlib.sha256((inbox / f"trang-{i:02d}.png").read_bytes()).hexdigest())
        proc = _start(workstation, log)
        time.sleep(rng.uniform(1.0, 6.0))
        _kill(proc)

    proc = _start(workstation, log)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(1)
            with Catalog(config.archive.catalog_path) as cat:
                busy = [j for j in cat.jobs() if not JobState(j.state).finished]
            if not busy and not list(inbox.iterdir()):
                break
        else:
            raise AssertionError("service did not finish: " + log.read_text(encoding="utf-8")[-3000:])
    finally:
        _kill(proc, signal.SIGTERM)

    client, storage = s3.client(), open_storage(config)
    with Catalog(config.archive.catalog_path) as cat:
        codes = cat.custody_store.dossier_codes()
        rows = {f.path: f.sha256 for f in cat.stored_files(sorted(codes))}
    filed: list[str] = []
    for rel in (r for r in rows if r.endswith("/dossier.json")):
        with storage.local_copy(rel) as path:
            assert path is not None
            manifest = json.loads(path.read_text(encoding="utf-8"))
        filed.extend(s["sha256"] for d in manifest["documents"] for s in d["sources"])
    assert sorted(filed) == sorted(expected)  # every scan filed, none twice
    versions = client.list_object_versions(Bucket=bucket).get("Versions", [])
    assert dossier_keys(versions) == sorted(rows)  # one version a key; nothing the catalog lacks
    anchors = [v["Key"] for v in versions if v["Key"].startswith(".audit/")]
    assert anchors and len(set(anchors)) == len(anchors)  # the audit log's checkpoints, each written once
    for key, sha in rows.items():
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha
        if key.endswith(".pdf"):
            assert client.head_object(Bucket=bucket, Key=key)["ObjectLockMode"] == "COMPLIANCE"
    print(f"\n{KILLS} lần SIGKILL khi lưu vào S3: {len(expected)} tệp vào, {len(codes)} hồ sơ, "
          f"{len(rows)} đối tượng; không mất, không trùng, không sót đối tượng lạ")  # fmt: skip
