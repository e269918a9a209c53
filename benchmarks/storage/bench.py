"""Filing and reading back through the storage interface: local folders against an S3 store with Object Lock.

    .venv/bin/python -m benchmarks.storage.bench --dossiers 40 --files 3 --mb 1 --big-mb 200
    .venv/bin/python -m benchmarks.storage.bench --endpoint https://s3.example --bucket b   # a store of your own
                                                       # (keys in SCANNER_S3_ACCESS_KEY / SCANNER_S3_SECRET_KEY)

Each dossier is FILES signed-PDF-sized files of random bytes plus a
``dossier.json``, staged and filed as filing does (``storage.staging`` then
``storage.file_dossier``, COMPLIANCE locks on the PDFs), then every file is
read back as verify reads it (``stat``, then ``local_copy`` and SHA-256).
Without --endpoint the S3 store is moto's server started as its own process
on 127.0.0.1 (in memory, in Python: the figures are the program's overhead
and the protocol, not a real store's disks). The last line is the memory a
BIG-MB object costs the reader: ``local_copy`` streams it to a temporary
file, so the process's peak resident set should not grow by its size.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from scanner.archive.storage import LocalStorage, S3Storage, Storage, lock_for
from scanner.config import StorageConfig
from scanner.files import sha256_file

KEY_ENV, SECRET_ENV = "SCANNER_S3_ACCESS_KEY", "SCANNER_S3_SECRET_KEY"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto_server did not start")


def _fill(where: Path, files: int, mb: int) -> None:
    for i in range(files):
        (where / f"D.{i + 1:02d}.pdf").write_bytes(os.urandom(mb * 1024 * 1024))
    (where / "dossier.json").write_text('{"dossier_code": "D"}', encoding="utf-8")


def _run(storage: Storage, config: StorageConfig, dossiers: int, files: int, mb: int) -> dict[str, float]:
    lock = lock_for(config, "10 năm", date(2026, 12, 1))
    folders = [f"000.00.00.H32/2026/000.00.00.H32-261201-{n + 1:04d}" for n in range(dossiers)]
    filing, expected = 0.0, {}
    for folder in folders:
        staging = storage.staging(folder, f"bench-{folder.rsplit('-', 1)[-1]}")
        _fill(staging, files, mb)
        expected.update({f"{folder}/{p.name}": sha256_file(p) for p in staging.iterdir()})
        start = time.perf_counter()
        storage.file_dossier(staging, folder, lock)
        filing += time.perf_counter() - start
    start = time.perf_counter()
    read = 0
    for rel, digest in expected.items():  # as verify reads a file: a path on disk, hashed
        with storage.local_copy(rel) as path:
            assert path is not None and sha256_file(path) == digest
            read += path.stat().st_size
    reading = time.perf_counter() - start
    start = time.perf_counter()
    for rel, digest in expected.items():  # as filing reads back what it filed: the store's word
        held = storage.stat(rel)
        assert held is not None and held.sha256 == digest
    stating = time.perf_counter() - start
    return {"filing_ms": 1000 * filing / dossiers, "read_mb_s": read / 1024 / 1024 / reading,
            "stat_ms": 1000 * stating / len(expected)}  # fmt: skip


def _big(storage: S3Storage, work: Path, big_mb: int) -> tuple[float, float]:
    """(MB the process's peak resident set grew by, reading BIG_MB through ``local_copy``)."""
    src = work / "lon.pdf"
    with src.open("wb") as f:
        for _ in range(big_mb):
            f.write(os.urandom(1024 * 1024))
    digest = sha256_file(src)
    storage.put("000.00.00.H32/2026/LON/lon.pdf", src, None)
    src.unlink()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with storage.local_copy("000.00.00.H32/2026/LON/lon.pdf") as path:
        assert path is not None and sha256_file(path) == digest
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before, before


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dossiers", type=int, default=40)
    p.add_argument("--files", type=int, default=3)
    p.add_argument("--mb", type=int, default=1)
    p.add_argument("--big-mb", type=int, default=200)
    p.add_argument("--endpoint", default="")
    p.add_argument("--bucket", default="")
    args = p.parse_args(argv)
    server = None
    if not args.endpoint:
        server, args.endpoint = _moto()
        os.environ.setdefault(KEY_ENV, "bench")
        os.environ.setdefault(SECRET_ENV, "bench")
    try:
        config = StorageConfig(kind="s3", bucket=args.bucket or f"bench-{os.getpid()}", endpoint=args.endpoint,
                               region="us-east-1", access_key_env=KEY_ENV, secret_key_env=SECRET_ENV,
                               lock_mode="COMPLIANCE")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            s3 = S3Storage(config, work / "s3-work")
            if not args.bucket:
                s3.client.create_bucket(Bucket=config.bucket, ObjectLockEnabledForBucket=True)
            rows = {
                "local folders": _run(LocalStorage(work / "root", work / "work"), config, args.dossiers, args.files,
                                      args.mb),
                "S3 (moto server)" if server else f"S3 ({args.endpoint})": _run(s3, config, args.dossiers,
                                                                                 args.files, args.mb),
            }  # fmt: skip
            grew, base = _big(s3, work, args.big_mb)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    mb = args.files * args.mb
    print(f"{args.dossiers} dossiers of {args.files} × {args.mb} MB + dossier.json ({mb} MB each)\n")
    print("| storage | filing per dossier | read back as verify does (copy + SHA-256) | stat per file |")
    print("| --- | ---: | ---: | ---: |")
    for name, r in rows.items():
        print(f"| {name} | {r['filing_ms']:.0f} ms | {r['read_mb_s']:.0f} MB/s | {r['stat_ms']:.1f} ms |")
    print(f"\nreading a {args.big_mb} MB object through local_copy: peak RSS {base:.0f} MB → {base + grew:.0f} MB "
          f"(+{grew:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
