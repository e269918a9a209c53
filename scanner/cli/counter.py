"""The counter's and the service's commands: init, ocr, process, watch, status, backfill.

Moved as they were from the single-module CLI; the counter flow is being
rewritten on top of ``scanner.app.counter`` and these are its clients.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from scanner.cli import load_config as _config
from scanner.cli.render import print_json as _print_json
from scanner.errors import EXIT_INPUT_FAILED, EXIT_OK

log = logging.getLogger("scanner")

DEFAULT_AGENCY = "000.00.00.H32"
DEFAULT_AGENCY_NAME = "Ủy ban nhân dân phường Thử Nghiệm"


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    def command(name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help, description=help, parents=[common])
        s.set_defaults(handler=handler)
        return s

    s = command("init", cmd_init, "khởi tạo một máy trạm: cấu hình, thư mục, danh mục, khóa ký thử nghiệm")
    s.add_argument("--root", type=Path, required=True, metavar="THƯ_MỤC", help="thư mục gốc của máy trạm")
    s.add_argument("--agency", default=DEFAULT_AGENCY, help="mã định danh cơ quan")
    s.add_argument("--agency-name", default=DEFAULT_AGENCY_NAME, help="tên cơ quan")

    s = command("ocr", cmd_ocr, "ảnh quét/PDF → một tệp PDF/A tìm kiếm được (không cấp mã, không ký)")
    s.add_argument("inputs", nargs="+", type=Path, metavar="TỆP", help="ảnh quét (JPEG, PNG, BMP, TIFF) hoặc PDF")
    s.add_argument("-o", "--output", type=Path, required=True, help="tệp PDF/A kết quả")
    s.add_argument("--pdfa", choices=("2b", "1b"), default="2b", help="mức PDF/A (mặc định 2b)")
    s.add_argument("-l", "--language", default="vie", help="ngôn ngữ Tesseract, ví dụ vie hoặc vie+eng")
    s.add_argument("--jobs", type=int, default=0, help="số tiến trình (0 = số nhân CPU)")
    s.add_argument("--sidecar", type=Path, help="ghi thêm văn bản nhận dạng được vào tệp này (UTF-8)")

    s = command("process", cmd_process, "xử lý một hồ sơ qua toàn bộ quy trình")
    s.add_argument("inputs", nargs="+", type=Path, metavar="TỆP", help="mỗi tệp là một văn bản của hồ sơ")
    s.add_argument("--counter", required=True, help="tên quầy, ví dụ quay-1")
    s.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    command("watch", cmd_watch, "dịch vụ: theo dõi hộp thư đến của các quầy và xử lý tệp mới")

    s = command("status", cmd_status, "các hồ sơ gần đây của quầy")
    s.add_argument("--counter", help="chỉ quầy này")
    s.add_argument("--limit", type=int, default=20, help="số dòng tối đa (mặc định 20)")
    s.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    s = command("backfill", cmd_backfill, "số hóa hàng loạt kết quả cũ còn hiệu lực theo bảng kê CSV")
    s.add_argument("src", type=Path, metavar="NGUỒN", help="thư mục chứa các tệp quét")
    s.add_argument("--manifest", type=Path, required=True, help="bảng kê CSV (UTF-8, có dòng tiêu đề)")
    s.add_argument("--jobs", type=int, default=0, help="số kết quả xử lý song song (0 = số nhân CPU)")
    s.add_argument("--counter", help="quầy/cơ quan nhận (mặc định: quầy đầu tiên trong cấu hình)")
    s.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra bảng kê, không số hóa")


# --- init ---------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog
    from scanner.codes import is_agency_code
    from scanner.config import Secret, load_config
    from scanner.errors import ConfigError
    from scanner.sign import create_dev_identity

    if not is_agency_code(args.agency):
        raise ConfigError(
            f"--agency: mã định danh cơ quan '{args.agency}' không hợp lệ",
            f"--agency: invalid agency code '{args.agency}'",
        )
    root: Path = args.root.resolve()
    config_path = root / "scanner.toml"
    if config_path.exists():
        print(f"Máy trạm đã được khởi tạo: {config_path}", file=sys.stderr)
        load_config(config_path)
        print(config_path)
        return EXIT_OK
    for sub in ("archive", "work", "inbox/quay-1", "keys"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    keys = root / "keys"
    keys.chmod(0o700)
    password_file = keys / "agency.p12.pass"
    password = secrets.token_urlsafe(24)
    password_file.touch(mode=0o600)
    password_file.write_text(password + "\n", encoding="utf-8")
    identity = create_dev_identity(
        keys, agency_code=args.agency, agency_name=args.agency_name, password=Secret(password)
    )
    config_path.write_text(
        DEFAULT_CONFIG.format(
            agency=args.agency,
            agency_name=args.agency_name.replace('"', "'"),
            pkcs12=identity.pkcs12.relative_to(root).as_posix(),
            ca=identity.ca_cert.relative_to(root).as_posix(),
        ),
        encoding="utf-8",
    )
    config = load_config(config_path)
    Catalog(config.archive.catalog_path).close()
    print(f"Đã khởi tạo máy trạm tại {root} (khóa ký chỉ dùng thử nghiệm, không dùng cho sản xuất)", file=sys.stderr)
    print(config_path)
    return EXIT_OK


DEFAULT_CONFIG = textwrap.dedent(
    """\
    # Cấu hình máy trạm số hóa — tạo bởi `scanner init`.
    # Workstation configuration written by `scanner init`. Relative paths are
    # relative to this file's folder.

    [archive]
    root = "archive"                    # kho lưu trữ điện tử
    work = "work"                       # vùng làm việc, khu cách ly (quarantine)
    # catalog = "sqlite:///archive/catalog.sqlite"

    [[counters]]
    name = "quay-1"
    inbox = "inbox/quay-1"              # máy quét ghi ảnh vào đây
    agency_code = "{agency}"
    agency_name = "{agency_name}"
    procedure_code = ""                 # mã TTHC mặc định, ví dụ "1.000894"
    poll_seconds = 0                    # > 0: quét định kỳ (thư mục mạng SMB/NFS)
    settle_seconds = 2                  # tệp phải đứng yên chừng này giây mới được nhận

    # [capture]                         # mặc định / defaults
    # dossier_idle_seconds = 600        # hồ sơ đang mở tự đóng sau chừng này giây không có tệp mới
    # separator_text = "PHAN-CACH-VAN-BAN"  # nội dung mã QR của tờ phân cách văn bản
    # blank_ink = 0.002                 # ngưỡng mực để coi là trang trắng
    # max_file_mb = 200
    # max_megapixels = 200

    [ocr]
    languages = ["vie"]

    [pdfa]
    flavour = "2b"                      # "2b" hoặc "1b"

    [signing]
    # CHỈ DÙNG THỬ NGHIỆM: khóa do `scanner init` tạo, không dùng cho sản xuất.
    pkcs12 = "{pkcs12}"
    password_env = "SCANNER_P12_PASSWORD"
    password_file = "keys/agency.p12.pass"
    level = "B-B"                       # B-B (không cần mạng), B-T, B-LT, B-LTA
    trust_roots = ["{ca}"]
    # reason = "Sao y bản chính"
    # location = ""
    # Từ mức B-T: máy chủ dấu thời gian RFC 3161 (TSA) của tổ chức chứng thực.
    # tsa_url = "http://tsa.example.vn/tsa"
    # B-LT, B-LTA: nhúng OCSP/CRL để kiểm tra lâu dài; trust_roots phải có CA gốc
    # của chứng thư ký và của TSA.
    #
    # Khóa trên USB token/HSM (PKCS#11) thay cho pkcs12 (bỏ pkcs12/password_*):
    # pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"  # thư viện PKCS#11 của token
    # token_label = "Kho lưu trữ Sở Tư pháp"   # nhãn token, có dấu cũng được
    # key_id = "a1b2c3"                 # CKA_ID dạng hex (khuyên dùng), hoặc:
    # key_label = "Khóa ký"
    # pin_env = "SCANNER_TOKEN_PIN"     # mã PIN: biến môi trường hoặc tệp, không ghi ở đây
    # pin_file = "keys/token.pin"
    #
    # Dấu chữ ký hiển thị (góc trên bên phải trang 1: SAO Y / tên cơ quan / thời gian ký):
    # visible = true                    # false: chữ ký ẩn
    # mark_text = "SAO Y"
    # mark_agency = ""                  # để trống: agency_name của quầy

    [workers]
    processes = 0                       # 0 = số nhân CPU
    """
)


# --- ocr ----------------------------------------------------------------------------------


def cmd_ocr(args: argparse.Namespace) -> int:
    """The standalone tool: scans in, one searchable PDF/A out; nothing is coded, signed or archived."""
    import os

    from scanner.capture.load import load_pages
    from scanner.clean import CleanOptions
    from scanner.model import PdfMetadata, PdfPage, SourceFile
    from scanner.ocr import OcrOptions
    from scanner.pdf import build_pdfa
    from scanner.tools import tesseract

    langs = tuple(args.language.split("+"))
    tesseract.check_languages(langs)
    processes = args.jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="scanner-ocr-") as tmp:
        work = Path(tmp)
        pages = []
        for i, path in enumerate(args.inputs):
            from scanner.archive import sha256_file
            from scanner.errors import InputError

            if not path.is_file():
                raise InputError(str(path), "không tìm thấy tệp", "file not found", code="missing")
            src = SourceFile(
                path=path, original_name=path.name, sha256=f"{i:04d}" + sha256_file(path), size=path.stat().st_size
            )
            pages.extend(load_pages(src, work / "pages"))
        clean, ocr = CleanOptions(), OcrOptions(languages=langs)
        if processes > 1 and len(pages) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(max_workers=min(processes, len(pages)), mp_context=ctx) as pool:
                results = list(
                    pool.map(_ocr_page, pages, [work / "clean"] * len(pages), [clean] * len(pages), [ocr] * len(pages))
                )
        else:
            results = [_ocr_page(p, work / "clean", clean, ocr) for p in pages]
        meta = PdfMetadata(title=args.output.stem, creator="scanner")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        build_pdfa([PdfPage(image=c.image, ocr=o) for c, o in results], args.output, flavour=args.pdfa, metadata=meta)
        if args.sidecar is not None:
            args.sidecar.parent.mkdir(parents=True, exist_ok=True)
            args.sidecar.write_text("\n\f\n".join(o.text for _, o in results) + "\n", encoding="utf-8")
    print(args.output)
    return EXIT_OK


def _ocr_page(page: Any, clean_dir: Path, clean: Any, ocr: Any) -> tuple[Any, Any]:
    """Clean and recognize one page for ``scanner ocr``.

    The pipeline's page work without importing the pipeline: its signing and
    archive imports cost about a second of CPU per run, as much as cleaning
    a page, and this command signs and archives nothing.
    """
    from scanner.clean import clean_page
    from scanner.ocr import ocr_page

    cleaned = clean_page(page, clean_dir, clean)
    return cleaned, ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=cleaned.image.dpi, options=ocr
    )


# --- process / watch ----------------------------------------------------------------------


def _outcome_json(outcome: Any) -> dict[str, Any]:
    return {
        "dossier_code": outcome.dossier_code,
        "documents": [{"code": d.code, "path": str(d.path), "pages": d.pages} for d in outcome.documents],
        "warnings": list(outcome.warnings) + ([outcome.error] if outcome.error else []),
    }


def cmd_process(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog
    from scanner.errors import InputError
    from scanner.pipeline import Pipeline, make_pool

    config = _config(args)
    counter = config.counter(args.counter)
    for path in args.inputs:
        if not path.exists():
            raise InputError(str(path), "không tìm thấy tệp", "file not found", code="missing")
    with Catalog(config.archive.catalog_path) as catalog, make_pool(config.processes) as pool:
        pipeline = Pipeline(config, catalog, pool)
        job = pipeline.submit(args.inputs, counter)
        outcome = pipeline.run(job)
    if args.json:
        _print_json(_outcome_json(outcome))
    else:
        _print_outcome(outcome)
    return EXIT_OK if outcome.ok else EXIT_INPUT_FAILED


def _print_outcome(outcome: Any) -> None:
    if outcome.dossier_code:
        print(f"Hồ sơ {outcome.dossier_code}: {len(outcome.documents)} văn bản đã ký số và lưu trữ")
        for d in outcome.documents:
            print(f"  {d.code}  {d.pages} trang  {d.title}\n    {d.path}")
    for w in outcome.warnings:
        print(f"  Cảnh báo: {w}")
    if outcome.error:
        print(f"  Lỗi: {outcome.error}")


def cmd_watch(args: argparse.Namespace) -> int:
    from scanner.capture.watch import serve

    return serve(_config(args))


def cmd_status(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog
    from scanner.pipeline import VN_STATE

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        jobs = catalog.jobs(counter=args.counter, limit=args.limit)
        rows: list[dict[str, Any]] = []
        for job in jobs:
            dossier = catalog.dossier(job.dossier_code) if job.dossier_code else None
            rows.append(
                {
                    "kind": "dossier",
                    "job": job.id,
                    "counter": job.counter,
                    "dossier_code": job.dossier_code,
                    "state": job.state,
                    "state_vi": VN_STATE.get(job.state, job.state),
                    "documents": dossier.doc_total if dossier else 0,
                    "pages": dossier.page_total if dossier else 0,
                    "warnings": list(dossier.warnings) if dossier else ([job.error] if job.error else []),
                    "updated": job.updated,
                }
            )
        for event in catalog.recent_events(
            "quarantine", prefix=f"{args.counter}/" if args.counter else "", limit=args.limit
        ):
            counter, _, name = event["subject"].partition("/")
            rows.append(
                {
                    "kind": "file",
                    "counter": counter,
                    "file": name,
                    "state": "quarantined",
                    "state_vi": VN_STATE["quarantined"],
                    "reason_code": event["outcome"],
                    "warnings": [event["detail"]],
                    "updated": event["time"],
                }
            )
    rows.sort(key=lambda r: r["updated"], reverse=True)
    if args.json:
        _print_json(rows)
        return EXIT_OK
    for r in rows:
        if r["kind"] == "file":
            print(f"{r['updated']}  {r['counter']}  tệp {r['file']}  {r['state_vi']}: {r['warnings'][0]}")
            continue
        code = r["dossier_code"] or "—"
        print(f"{r['updated']}  {r['counter']}  {code}  {r['state_vi']}  {r['documents']} văn bản, {r['pages']} trang")
        for w in r["warnings"]:
            print(f"    ! {w}")
    return EXIT_OK


# --- backfill / report --------------------------------------------------------------------


def cmd_backfill(args: argparse.Namespace) -> int:
    from scanner.backfill import RowProblem, read_manifest
    from scanner.backfill.run import LineProgress, backfill
    from scanner.errors import InputError
    from scanner.pipeline import make_pool

    if not args.src.is_dir():
        raise InputError(str(args.src), "không tìm thấy thư mục nguồn", "source folder not found", code="missing")
    if args.dry_run:
        problems = 0
        for item in read_manifest(args.manifest, args.src):
            if isinstance(item, RowProblem):
                problems += 1
                print(f"{args.manifest.name}: {item} [{item.code}]")
        print(f"Đã kiểm tra bảng kê: {problems} lỗi", file=sys.stderr)
        return EXIT_OK if problems == 0 else EXIT_INPUT_FAILED
    config = _config(args)
    counter = config.counter(args.counter) if args.counter else config.counters[0]
    jobs = args.jobs or config.processes
    with make_pool(jobs) as pool:
        if sys.stderr.isatty():
            summary = _backfill_with_bar(config, args, counter, pool, jobs)
        else:
            summary = backfill(config, args.manifest, args.src, counter, pool, jobs=jobs, on_row=LineProgress())
    hours = max(summary.seconds, 1e-9) / 3600
    print(
        f"Xong: {summary.rows} dòng — {summary.archived} đã lưu, {summary.already} đã có từ trước, "
        f"{summary.invalid} dòng lỗi bị bỏ qua, {summary.failed} lỗi xử lý, {summary.flagged} cần đối chiếu; "
        f"{summary.pages} trang trong {summary.seconds:.0f} giây ({summary.pages / hours:.0f} trang/giờ)"
    )
    print(f"Báo cáo: {summary.report}")
    return EXIT_OK if summary.ok else EXIT_INPUT_FAILED


def _backfill_with_bar(config: Any, args: argparse.Namespace, counter: Any, pool: Any, jobs: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from scanner.backfill.run import RowResult, backfill

    with args.manifest.open(encoding="utf-8-sig") as f:
        total = max(0, sum(1 for line in f if line.strip()) - 1)
    state = {"pages": 0, "failures": 0}
    with Progress(
        TextColumn("[bold]Số hóa bổ sung"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[pages]} trang · {task.fields[rate]:.1f} trang/phút · {task.fields[failures]} lỗi"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("", total=total, pages=0, rate=0.0, failures=0)

        def on_row(r: RowResult) -> None:
            state["pages"] += r.pages
            state["failures"] += r.status in ("failed", "invalid")
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(
                task, advance=1, pages=state["pages"], rate=state["pages"] * 60 / elapsed, failures=state["failures"]
            )

        return backfill(config, args.manifest, args.src, counter, pool, jobs=jobs, on_row=on_row)
