"""The ``scanner`` command.

Exit status: 0 all good, 1 some inputs failed (or a check found a problem),
2 usage or configuration error. Every exception of the project is mapped to
its status here, in one place, and shown to the user in Vietnamese.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.app import SYSTEM
from scanner.errors import EXIT_INPUT_FAILED, EXIT_OK, EXIT_USAGE, ScannerError

log = logging.getLogger("scanner")

DEFAULT_AGENCY = "000.00.00.H32"
DEFAULT_AGENCY_NAME = "Ủy ban nhân dân phường Thử Nghiệm"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"scanner: lỗi cú pháp lệnh: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="scanner", description="Số hóa hồ sơ tại Bộ phận Một cửa (one-stop counter digitization)")
    p.add_argument("--config", type=Path, help="tệp cấu hình TOML (mặc định: biến SCANNER_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("init", help="khởi tạo một máy trạm: cấu hình, thư mục, danh mục, khóa ký thử nghiệm")
    s.add_argument("--root", type=Path, required=True)
    s.add_argument("--agency", default=DEFAULT_AGENCY, help="mã định danh cơ quan")
    s.add_argument("--agency-name", default=DEFAULT_AGENCY_NAME, help="tên cơ quan")

    s = sub.add_parser("ocr", help="ảnh quét/PDF → một tệp PDF/A tìm kiếm được (không cấp mã, không ký)")
    s.add_argument("inputs", nargs="+", type=Path)
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--pdfa", choices=("2b", "1b"), default="2b")
    s.add_argument("-l", "--language", default="vie", help="ngôn ngữ Tesseract, ví dụ vie hoặc vie+eng")
    s.add_argument("--jobs", type=int, default=0, help="số tiến trình (0 = số nhân CPU)")
    s.add_argument("--sidecar", type=Path, help="ghi thêm văn bản nhận dạng được vào tệp này (UTF-8)")

    s = sub.add_parser("process", help="xử lý một hồ sơ qua toàn bộ quy trình")
    s.add_argument("inputs", nargs="+", type=Path)
    s.add_argument("--counter", required=True, help="tên quầy, ví dụ quay-1")
    s.add_argument("--json", action="store_true")

    sub.add_parser("watch", help="dịch vụ: theo dõi hộp thư đến của các quầy và xử lý tệp mới")

    s = sub.add_parser("search", help="tìm kiếm toàn văn (có hoặc không dấu)")
    s.add_argument("query", nargs="?", default="", help='từ khóa; "cụm từ trong ngoặc kép"')
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--owner", help="số định danh cá nhân / mã số thuế của chủ hồ sơ")
    s.add_argument("--agency", help="mã cơ quan")
    s.add_argument("--procedure", help="mã thủ tục hành chính")
    s.add_argument("--type", dest="doc_type", help="loại văn bản, ví dụ 'Giấy khai sinh' hoặc QĐ")
    s.add_argument("--from", dest="date_from", help="ban hành từ ngày (YYYY-MM-DD)")
    s.add_argument("--to", dest="date_to", help="ban hành đến ngày (YYYY-MM-DD)")
    s.add_argument("--valid", action="store_true", help="chỉ giấy tờ, kết quả còn hiệu lực hôm nay")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("owner", help="giấy tờ, kết quả còn hiệu lực của một tổ chức/cá nhân (mới nhất trước)")
    s.add_argument("owner_id", help="số định danh cá nhân hoặc mã số thuế")
    s.add_argument("--json", action="store_true")

    sub.add_parser("reindex", help="dựng lại chỉ mục tìm kiếm từ danh mục")

    s = sub.add_parser("export", help="xuất hồ sơ/văn bản thành gói BagIt để nộp lưu")
    s.add_argument("code")
    s.add_argument("--out", type=Path, required=True)

    s = sub.add_parser("delete", help="ghi nhận đề nghị hủy hồ sơ/văn bản (không xóa tệp)")
    s.add_argument("code")
    s.add_argument("--reason", required=True)

    s = sub.add_parser("audit", help="nhật ký kiểm toán: xem hoặc kiểm tra tính toàn vẹn")
    s.add_argument("action", choices=("verify", "list"))
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("show", help="xem hồ sơ hoặc văn bản theo mã")
    s.add_argument("code")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("verify", help="kiểm tra tính toàn vẹn và chữ ký số của tệp lưu trữ")
    s.add_argument("codes", nargs="*")
    s.add_argument("--all", action="store_true")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("status", help="các hồ sơ gần đây của quầy")
    s.add_argument("--counter")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("backfill", help="số hóa hàng loạt kết quả cũ còn hiệu lực theo bảng kê CSV")
    s.add_argument("src", type=Path, help="thư mục chứa các tệp quét")
    s.add_argument("--manifest", type=Path, required=True, help="bảng kê CSV (UTF-8, có dòng tiêu đề)")
    s.add_argument("--jobs", type=int, default=0, help="số kết quả xử lý song song (0 = số nhân CPU)")
    s.add_argument("--counter", help="quầy/cơ quan nhận (mặc định: quầy đầu tiên trong cấu hình)")
    s.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra bảng kê, không số hóa")

    s = sub.add_parser("report", help="số liệu số hóa kết quả giải quyết TTHC theo cơ quan, thủ tục, tháng")
    s.add_argument("--from", dest="since", help="từ ngày (YYYY-MM-DD)")
    s.add_argument("--to", dest="until", help="đến ngày (YYYY-MM-DD)")
    s.add_argument("--agency", help="mã cơ quan")
    s.add_argument("--totals", type=Path, help="CSV tổng số kết quả còn hiệu lực của từng cơ quan")
    s.add_argument("--json", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("fontTools", "pikepdf", "pyhanko", "pyhanko_certvalidator"):  # their INFO is not for clerks
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return int(_COMMANDS[args.command](args))
    except ScannerError as exc:
        print(f"scanner: {exc.message_vi}", file=sys.stderr)
        if exc.message_en != exc.message_vi:
            print(f"scanner: ({exc.message_en})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _config(args: argparse.Namespace) -> Any:
    from scanner.config import load_config

    return load_config(args.config)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


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


# --- search / show / status / verify ------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    from datetime import date

    from scanner.archive import Catalog
    from scanner.archive.index import Filters

    config = _config(args)
    filters = Filters(
        agency=args.agency,
        procedure=args.procedure,
        doc_type=args.doc_type,
        owner=args.owner,
        date_from=_day(args.date_from, "--from"),
        date_to=_day(args.date_to, "--to"),
        valid_on=date.today() if args.valid else None,
    )
    if not args.query.strip() and filters.empty:
        raise ScannerError("cần từ khóa hoặc ít nhất một bộ lọc", "give a query or a filter")
    with Catalog(config.archive.catalog_path) as catalog:
        hits = catalog.search(args.query, limit=args.limit, filters=filters)
    root = config.archive.root
    if args.json:
        _print_json(
            [
                {
                    "code": h.code,
                    "title": h.title,
                    "path": str(root / h.path),
                    "snippet": h.snippet,
                    "dossier_code": h.dossier_code,
                    "type": h.type_name,
                    "issued_date": h.issued_date,
                    "score": h.score,
                }
                for h in hits
            ]
        )
        return EXIT_OK
    if not hits:
        print(f"Không tìm thấy văn bản nào khớp với «{args.query}».")
    for h in hits:
        print(f"{h.code}  {h.title}\n  {root / h.path}\n  {h.snippet}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from scanner.archive import Catalog
    from scanner.errors import NotFoundError

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        dossier = catalog.dossier(args.code)
        if dossier is not None:
            data: dict[str, Any] = asdict(dossier)
            data["documents"] = [
                {k: v for k, v in asdict(d).items() if k != "text"} for d in catalog.documents(args.code)
            ]
        else:
            doc = catalog.document(args.code)
            if doc is None:
                raise NotFoundError(f"không có hồ sơ hay văn bản mã {args.code}", f"no dossier or document {args.code}")
            data = asdict(doc)
        catalog.audit("view", args.code, actor=SYSTEM.label)
    if args.json:
        _print_json(data)
    else:
        for key, value in data.items():
            if key == "documents":
                print("documents:")
                for d in value:
                    print(f"  {d['code']}  {d['pages']} trang  {d['title']}  {d['path']}")
            else:
                print(f"{key}: {value}")
    return EXIT_OK


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
            counter, _, name = event.subject.partition("/")
            rows.append(
                {
                    "kind": "file",
                    "counter": counter,
                    "file": name,
                    "state": "quarantined",
                    "state_vi": VN_STATE["quarantined"],
                    "reason_code": event.outcome,
                    "warnings": [event.detail],
                    "updated": event.time,
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


def cmd_verify(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog, sha256_file
    from scanner.archive.fixity import check_fixity
    from scanner.errors import NotFoundError
    from scanner.sign.verify import check_file

    config = _config(args)
    if not args.codes and not args.all:
        raise ScannerError("cần chỉ định mã hồ sơ/văn bản hoặc --all", "give codes or --all")
    root = config.archive.root
    failures = 0
    report: list[dict[str, Any]] = []
    with Catalog(config.archive.catalog_path) as catalog:
        if args.all:
            docs = catalog.all_documents()
        else:
            docs = []
            for code in args.codes:
                found = catalog.documents(code) or ([d] if (d := catalog.document(code)) else [])
                if not found:
                    raise NotFoundError(f"không có hồ sơ hay văn bản mã {code}", f"no dossier or document {code}")
                docs.extend(found)
        for doc in docs:
            path = root / doc.path
            problems: list[str] = []
            details: list[str] = []
            actual = sha256_file(path) if path.exists() else None
            if not path.exists():
                problems.append("tệp không còn trong kho lưu trữ")
            else:
                if actual != doc.sha256:
                    problems.append("mã băm SHA-256 khác với danh mục (tệp đã bị thay đổi)")
                else:
                    details.append("SHA-256: khớp danh mục")
                checked = check_file(path, config.signing.trust_roots)
                problems.extend(checked.problems)
                details.extend(_signature_details(checked))
            ok = not problems
            failures += not ok
            catalog.record_event("verify", doc.code, "ok" if ok else "failed", "; ".join(problems))
            outcome = "ok" if ok else "failed"
            summary, detail = "; ".join(details), "; ".join(problems)
            catalog.record_fixity(doc.path, doc.code, doc.sha256, actual, summary, outcome, detail, actor=SYSTEM.label)
            report.append({"code": doc.code, "path": str(path), "ok": ok, "problems": problems, "details": details})
        dossiers = None if args.all else sorted({d.dossier_code for d in docs})
        for f in check_fixity(catalog, root, None, dossiers=dossiers, roles=("metadata", "original")):
            failures += not f.ok
            report.append(
                {"code": f.path, "path": str(root / f.path), "ok": f.ok, "problems": list(f.problems), "details": []}
            )
    if args.json:
        _print_json(report)
    else:
        for r in report:
            status = "HỢP LỆ" if r["ok"] else "LỖI"
            print(f"{status}  {r['code']}  {r['path']}")
            for d in r["details"]:
                print(f"    {d}")
            for p in dict.fromkeys(r["problems"]):
                print(f"    - {p}")
        print(f"{len(report) - failures}/{len(report)} tệp hợp lệ")
    return EXIT_OK if failures == 0 else EXIT_INPUT_FAILED


_REVOCATION_VI = {
    "good": "không bị thu hồi (theo dữ liệu OCSP/CRL lưu trong tệp)",
    "revoked": "ĐÃ BỊ THU HỒI",
    "incomplete": "dữ liệu trong tệp không đủ để kết luận",
    "none": "tệp không lưu dữ liệu thu hồi",
}


def _signature_details(checked: Any) -> list[str]:
    """One line per signature and document timestamp, and the PDF/A claim, as an archive officer reads them."""
    lines = []
    for sig in checked.signatures:
        if not sig.signed:
            continue
        when = sig.timestamp.astimezone().isoformat() if sig.timestamp else "không có"
        lines.append(
            f"chữ ký '{sig.field_name}' của {sig.signer or 'không rõ'}: "
            f"toàn vẹn {'có' if sig.intact and sig.valid else 'KHÔNG'}, "
            f"chuỗi tin cậy {'có' if sig.trusted else 'KHÔNG'}, mức {sig.level or '—'}, "
            f"dấu thời gian {when}, trạng thái thu hồi: {_REVOCATION_VI.get(sig.revocation, sig.revocation)}"
        )
    for ts in checked.timestamps:
        ok = ts.intact and ts.valid and ts.trusted
        when = ts.time.astimezone().isoformat() if ts.time else "?"
        lines.append(f"dấu thời gian tài liệu '{ts.field_name}': {when}, {'hợp lệ' if ok else 'KHÔNG hợp lệ'}")
    lines.append(f"PDF/A: {checked.pdfa or 'không khai báo'}")
    return lines


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


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from scanner.archive import Catalog
    from scanner.backfill.rates import counts, rates, read_totals
    from scanner.errors import InputError

    try:
        since = date.fromisoformat(args.since) if args.since else date(1900, 1, 1)
        until = date.fromisoformat(args.until) if args.until else date.today()
    except ValueError as exc:
        raise InputError(
            "--from/--to", f"ngày không hợp lệ ({exc})", f"invalid date ({exc})", code="bad-date"
        ) from None
    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        rows = counts(catalog, since=since, until=until, agency=args.agency, today=date.today())
    totals = rates(rows, read_totals(args.totals)) if args.totals else []
    if args.json:
        _print_json(
            {
                "from": since.isoformat(),
                "to": until.isoformat(),
                "rows": [r.__dict__ for r in rows],
                "rates": [{**r.__dict__, "rate": round(r.rate, 2)} for r in totals],
            }
        )
        return EXIT_OK
    print(f"Kết quả giải quyết TTHC đã số hóa, {since:%d/%m/%Y} – {until:%d/%m/%Y}")
    print(f"{'Cơ quan':<20} {'Thủ tục':<12} {'Tháng':<8} {'Bổ sung':>8} {'Mới':>6} {'Còn HL':>7} {'Trang':>7}")
    for r in rows:
        print(
            f"{r.agency:<20} {r.procedure:<12} {r.month:<8} {r.backfilled:>8} {r.new:>6} "
            f"{r.still_valid:>7} {r.pages:>7}"
        )
    if not rows:
        print("(chưa có kết quả nào được số hóa trong khoảng này)")
    for t in totals:
        print(f"Tỷ lệ số hóa {t.agency}: {t.digitized_valid}/{t.total_valid} = {t.rate:.1f}%")
    return EXIT_OK


# --- the archive officer: owner / reindex / export / delete / audit ----------------------------


def _day(value: str | None, flag: str) -> Any:
    from datetime import date

    from scanner.errors import ConfigError

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag}: ngày '{value}' phải có dạng YYYY-MM-DD", f"{flag}: expected YYYY-MM-DD") from None


def cmd_owner(args: argparse.Namespace) -> int:
    """What a counter checks before asking a citizen for a paper: what is already digitized and still valid."""
    from dataclasses import asdict, replace

    from scanner.archive import Catalog

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        rows = catalog.owner_documents(args.owner_id)
        catalog.audit("view", f"owner:{args.owner_id}", f"{len(rows)} văn bản", actor=SYSTEM.label)
    root = config.archive.root
    rows = [replace(r, path=str(root / r.path)) for r in rows]
    if args.json:
        _print_json([asdict(r) for r in rows])
        return EXIT_OK
    if not rows:
        print(f"Không có giấy tờ, kết quả nào còn hiệu lực của {args.owner_id} trong kho.")
    for r in rows:
        kind = "kết quả" if r.kind == "result" else "giấy tờ"
        number = f"số {r.code_number}/{r.code_notation}" if r.code_notation else ""
        until = f"hiệu lực đến {r.valid_until}" if r.valid_until else "không thời hạn"
        print(f"{r.code}  {kind}  {r.type_name or r.title}  {number}  {r.issued_date or ''}  {until}")
        print(f"  {r.path}")
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        n = catalog.reindex(actor=SYSTEM.label)
    print(f"Đã dựng lại chỉ mục tìm kiếm: {n} văn bản")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from scanner.archive import Catalog
    from scanner.archive.export import export_bag

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        bag = export_bag(catalog, config.archive.root, args.code, args.out)
    print(bag)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletion is a request: it is logged for approval under the retention rules; no file is removed here."""
    from scanner.archive import Catalog
    from scanner.errors import NotFoundError

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        if catalog.dossier(args.code) is None and catalog.document(args.code) is None:
            raise NotFoundError(f"không có hồ sơ hay văn bản mã {args.code}", f"no dossier or document {args.code}")
        catalog.audit("delete-request", args.code, args.reason, actor=SYSTEM.label)
    print(f"Đã ghi nhận đề nghị hủy {args.code}; tệp vẫn được giữ cho đến khi được phê duyệt theo thời hạn lưu trữ.")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from scanner.archive import Catalog

    config = _config(args)
    with Catalog(config.archive.catalog_path) as catalog:
        if args.action == "list":
            entries = catalog.audit_entries(limit=args.limit)
            if args.json:
                _print_json([asdict(e) for e in entries])
            for e in [] if args.json else entries:
                print(f"{e.id:>6}  {e.time}  {e.actor}  {e.action}  {e.subject}  {e.detail}")
            return EXIT_OK
        problems = catalog.verify_audit()
        count = len(catalog.audit_entries())
    if args.json:
        _print_json({"ok": not problems, "entries": count, "problems": problems})
    elif problems:
        print("Nhật ký kiểm toán KHÔNG còn nguyên vẹn:")
        for p in problems:
            print(f"  - {p}")
    else:
        print(f"Nhật ký kiểm toán nguyên vẹn: {count} mục, chuỗi băm khớp.")
    return EXIT_OK if not problems else EXIT_INPUT_FAILED


_COMMANDS = {
    "init": cmd_init,
    "ocr": cmd_ocr,
    "process": cmd_process,
    "watch": cmd_watch,
    "search": cmd_search,
    "show": cmd_show,
    "status": cmd_status,
    "verify": cmd_verify,
    "backfill": cmd_backfill,
    "report": cmd_report,
    "owner": cmd_owner,
    "reindex": cmd_reindex,
    "export": cmd_export,
    "delete": cmd_delete,
    "audit": cmd_audit,
}
