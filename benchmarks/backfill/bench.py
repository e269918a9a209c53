"""Backfill throughput: a generated set of old results digitized through `scanner backfill`.

Generates N pages of results (certificates and decisions, one to three pages
each, some as folders of pages) with a manifest, initializes a throw-away
workstation, runs the real command and reports pages per hour per core from
the CPU time of the command and its workers. The target of issue 7 is at
least 1,400 pages per hour per core, about the recognizer's own speed.

    .venv/bin/python -m benchmarks.backfill.bench [--pages 200] [--jobs 2] [--out benchmarks/out/backfill]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "samples"))

from pagegen import PageSpec, add_noise, jpeg_roundtrip, render_pages, skew  # noqa: E402

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Thu", "Quốc", "Mỹ")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hạnh", "Khánh", "Lộc", "Nhung", "Phúc", "Quyên", "Thắm", "Tuấn")
WARDS = ("Phước Hải", "Vĩnh Nguyên", "Lộc Thọ", "Tân Lập", "Phương Sài", "Ngọc Hiệp")
HEADER = ("Tệp", "Mã TTHC", "Số ký hiệu", "Ngày cấp", "Hiệu lực đến", "Số định danh", "Họ tên", "Loại giấy tờ")
KINDS = (
    ("GIẤY XÁC NHẬN", "GXN-UBND", "1.001612", "Xác nhận tình trạng hôn nhân", 1),
    ("QUYẾT ĐỊNH", "QĐ-UBND", "1.000894", "Về việc cấp giấy phép xây dựng nhà ở riêng lẻ", 2),
    ("GIẤY CHỨNG NHẬN", "GCN-UBND", "2.000488", "Chứng nhận đăng ký hộ kinh doanh", 3),
)
BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ hồ sơ đề nghị của công dân và kết quả xác minh của công chức tư pháp - hộ tịch phường;",
    "Ông (bà) có tên trên thường trú tại tổ dân phố số {n}, phường {ward}, thành phố Nha Trang, tỉnh Khánh Hòa.",
    "Giấy tờ này có giá trị trong thời hạn ghi trên văn bản và được dùng để bổ sung hồ sơ thủ tục hành chính.",
    "Người được cấp có trách nhiệm sử dụng đúng mục đích, không tẩy xóa, sửa chữa nội dung của văn bản.",
)


def _person(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    year = rng.randrange(1950, 2005)
    century_sex = (0 if year < 2000 else 2) + rng.randrange(2)
    return name, f"056{century_sex}{year % 100:02d}{rng.randrange(10**6):06d}"


def generate(out: Path, pages: int, seed: int = 7) -> tuple[Path, Path, int]:
    """Write the scans under OUT/nguon and the manifest OUT/bang-ke.csv; return them and the page count."""
    rng = random.Random(seed)
    src = out / "nguon"
    src.mkdir(parents=True)
    rows: list[list[str]] = []
    made = 0
    while made < pages:
        i = len(rows)
        type_name, notation, procedure, subject, n_pages = rng.choice(KINDS)
        n_pages = min(n_pages, pages - made)
        issued = date(2019, 1, 1) + timedelta(days=rng.randrange(1800))
        name, ident = _person(rng)
        ward = rng.choice(WARDS)
        body = [p.format(n=rng.randrange(1, 40), ward=ward) for p in BODY]
        body.insert(0, f"Cấp cho ông (bà): {name}; số định danh cá nhân: {ident}.")
        spec = PageSpec(
            issuer_parent="UBND THÀNH PHỐ NHA TRANG",
            issuer=f"ỦY BAN NHÂN DÂN\nPHƯỜNG {ward.upper()}",
            number_line=f"Số: {100 + i}/{notation}",
            place_date=f"{ward}, ngày {issued.day} tháng {issued.month} năm {issued.year}",
            type_name=type_name,
            subject=subject,
            body=body * (1 + 3 * (n_pages - 1)),  # long enough to run over N pages
            signer_position="CHỦ TỊCH",
            signer_name=f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
        )
        images = render_pages(spec, dpi=200)[:n_pages]
        images = [jpeg_roundtrip(add_noise(skew(im, rng.uniform(-2, 2)), 4, seed=i), 80) for im in images]
        if len(images) == 1:
            rel = f"kq-{i:04d}.jpg"
            images[0].save(src / rel, dpi=(200, 200), quality=85)
        else:
            rel = f"kq-{i:04d}"
            (src / rel).mkdir()
            for k, im in enumerate(images, start=1):
                im.save(src / rel / f"trang-{k}.jpg", dpi=(200, 200), quality=85)
        made += len(images)
        until = "" if rng.random() < 0.6 else (issued + timedelta(days=365 * rng.randrange(3, 10))).isoformat()
        rows.append(
            [rel, procedure, f"{100 + i}/{notation}", issued.strftime("%d/%m/%Y"), until, ident, name, type_name]
        )
    manifest = out / "bang-ke.csv"
    with manifest.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return src, manifest, made


class TreeCpu:
    """CPU seconds used by this process and everything it starts, read from a cpuacct cgroup.

    ``RUSAGE_CHILDREN`` misses most of it: the page workers are children of
    the multiprocessing fork server, which nobody waits for, so their time
    (and their tesseract runs') is never added up. A cgroup counts every
    process in it, whoever reaps it. Without a writable cgroup (not root),
    the rusage figure is reported and marked as a lower bound.
    """

    def __init__(self) -> None:
        self.usage: Path | None = None
        for base, name in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"), ("/sys/fs/cgroup", "cpu.stat")):
            group = Path(base) / f"scanner-bench-{os.getpid()}"
            try:
                group.mkdir()
                (group / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                continue
            self.usage = group / name
            break
        self.start = self._read()

    def _read(self) -> float:
        if self.usage is None:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime
        text = self.usage.read_text()
        if self.usage.name == "cpu.stat":
            return int(text.split("usage_usec")[1].split()[0]) / 1e6
        return int(text) / 1e9

    @property
    def exact(self) -> bool:
        return self.usage is not None

    def seconds(self) -> float:
        return self._read() - self.start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "backfill")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    src, manifest, pages = generate(args.out, args.pages)
    scanner = str(Path(sys.executable).with_name("scanner"))
    ws = args.out / "ws"
    config = subprocess.run([scanner, "init", "--root", str(ws)], check=True, capture_output=True, text=True)
    cfg = Path(config.stdout.strip())
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("processes = 0 ", f"processes = {args.jobs} "), encoding="utf-8"
    )
    env = {**os.environ, "SCANNER_CONFIG": str(cfg)}
    cpu_meter = TreeCpu()
    t0 = time.monotonic()
    run = subprocess.run(
        [scanner, "backfill", str(src), "--manifest", str(manifest), "--jobs", str(args.jobs)],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - t0
    cpu = cpu_meter.seconds()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if run.returncode != 0:
        sys.exit(f"backfill failed ({run.returncode}):\n{run.stdout}\n{run.stderr[-3000:]}")
    result = {
        "pages": pages,
        "rows": sum(1 for _ in manifest.open(encoding="utf-8-sig")) - 1,
        "jobs": args.jobs,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_seconds_per_page": round(cpu / pages, 2),
        "pages_per_hour_per_core": round(pages * 3600 / cpu),
        "pages_per_hour_wall": round(pages * 3600 / wall),
        "cpu_measured_by": "cgroup (every process)" if cpu_meter.exact else "rusage (lower bound: misses workers)",
        "peak_rss_mb_largest_waited_process": round(peak / 1024),
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(run.stdout.strip())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
