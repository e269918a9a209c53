"""The archive officer's and the records team's commands: parse, call ``scanner.app.officer``/``records``, render.

Nothing here reads the catalog: every command renders the typed result of
one use case, so the web pages and these commands cannot disagree. On the
terminal a stored file is shown by its full path on this workstation (where
an officer opens it); in JSON by its path relative to the archive root (what
travels to other machines and survives moving the archive).

Each command imports the archive's use cases when it runs: the parser is
built for every command, and loading SQLAlchemy, Alembic and the index
there cost `scanner ocr` 1.1 s of CPU before it read a page.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from scanner.cli import actor, day, load_config, positive
from scanner.cli import render as r
from scanner.errors import EXIT_INPUT_FAILED, EXIT_OK, ConfigError

if TYPE_CHECKING:
    from scanner.app import officer as app

log = logging.getLogger(__name__)


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    def command(name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help, description=help, parents=[common])
        s.set_defaults(handler=handler)
        return s

    def json_flag(s: argparse.ArgumentParser) -> None:
        s.add_argument("--json", action="store_true", help="in kết quả dạng JSON (thời gian ISO 8601 có múi giờ)")

    s = command("search", cmd_search, "tìm kiếm toàn văn, có dấu hoặc không dấu")
    s.add_argument(
        "query",
        nargs="*",
        metavar="TỪ_KHÓA",
        help='các từ cần tìm, không cần ngoặc kép; một cụm trong ngoặc kép ("ủy ban nhân dân") phải đứng liền nhau',
    )
    s.add_argument("--owner", help="số định danh cá nhân / mã số thuế của chủ hồ sơ hoặc người được cấp")
    s.add_argument("--agency", help="mã cơ quan")
    s.add_argument("--procedure", help="mã thủ tục hành chính")
    s.add_argument("--type", dest="doc_type", help="loại văn bản, ví dụ 'Giấy khai sinh' hoặc QĐ")
    s.add_argument("--from", dest="date_from", type=day, metavar="NGÀY", help="ban hành từ ngày (dd/mm/yyyy)")
    s.add_argument("--to", dest="date_to", type=day, metavar="NGÀY", help="ban hành đến ngày (dd/mm/yyyy)")
    s.add_argument("--valid", action="store_true", help="chỉ giấy tờ, kết quả còn hiệu lực hôm nay")
    s.add_argument("--limit", type=positive, default=10, help="số kết quả hiển thị (mặc định 10)")
    json_flag(s)

    s = command("show", cmd_show, "xem hồ sơ hoặc văn bản theo mã")
    s.add_argument("code", metavar="MÃ", help="mã hồ sơ hoặc mã văn bản")
    json_flag(s)

    s = command("owner", cmd_owner, "giấy tờ, kết quả còn hiệu lực của một tổ chức/cá nhân (mới nhất trước)")
    s.add_argument("owner_id", metavar="SỐ_ĐỊNH_DANH", help="số định danh cá nhân hoặc mã số thuế")
    json_flag(s)

    s = command("verify", cmd_verify, "kiểm tra tính toàn vẹn và chữ ký số của tệp lưu trữ")
    s.add_argument("codes", nargs="*", metavar="MÃ", help="mã hồ sơ hoặc văn bản cần kiểm tra")
    s.add_argument("--all", action="store_true", help="kiểm tra toàn bộ kho lưu trữ")
    json_flag(s)

    s = command("export", cmd_export, "xuất hồ sơ/văn bản thành gói BagIt để nộp lưu")
    s.add_argument("code", metavar="MÃ", help="mã hồ sơ hoặc mã văn bản")
    s.add_argument("--out", type=Path, required=True, metavar="THƯ_MỤC", help="gói được ghi vào THƯ_MỤC/MÃ")

    s = command("delete", cmd_delete, "đề nghị hủy, phê duyệt đề nghị hủy (người thứ hai), xem đề nghị đang chờ")
    s.add_argument("code", nargs="?", metavar="MÃ", help="mã hồ sơ hoặc văn bản")
    s.add_argument("--reason", metavar="LÝ_DO", help="lý do đề nghị hủy (ghi đề nghị mới)")
    s.add_argument("--approve", action="store_true", help="phê duyệt đề nghị hủy đang chờ của MÃ")
    s.add_argument("--pending", action="store_true", help="liệt kê các đề nghị hủy đang chờ phê duyệt")
    json_flag(s)

    s = command("audit", cmd_audit, "nhật ký kiểm toán: xem hoặc kiểm tra tính toàn vẹn")
    s.add_argument(
        "action",
        choices=("verify", "list", "checkpoint"),
        metavar="verify|list|checkpoint",
        help="kiểm tra chuỗi băm và các điểm neo đã ký, xem, hoặc ký điểm neo mới bằng khóa của cơ quan",
    )
    s.add_argument("--limit", type=positive, default=50, help="số mục mới nhất được liệt kê (mặc định 50)")
    json_flag(s)

    command("reindex", cmd_reindex, "dựng lại chỉ mục tìm kiếm từ danh mục (bên cạnh chỉ mục đang dùng; "
            "bị ngắt thì chạy lại sẽ làm tiếp)")  # fmt: skip
    command("indexer", cmd_indexer, "dịch vụ chỉ mục tìm kiếm của kho chung: nơi duy nhất ghi chỉ mục, chạy liên tục "
            "([index] service = true trên mọi máy)")  # fmt: skip

    s = command("migrate", cmd_migrate, "chuyển danh mục và tệp của máy trạm lên kho lưu trữ chung (PostgreSQL)")
    s.add_argument("--to", dest="target", metavar="URL",
                   help="danh mục chung, postgresql://vai-trò@máy/cơ-sở-dữ-liệu (mật khẩu: PGPASSWORD hoặc ~/.pgpass, "
                        "không ghi trên dòng lệnh)")  # fmt: skip
    s.add_argument("--archive", dest="target_root", type=Path, metavar="THƯ_MỤC",
                   help="thư mục kho lưu trữ chung (thư mục dùng chung đã gắn vào máy này)")  # fmt: skip
    s.add_argument("--to-config", dest="target_config", type=Path, metavar="TỆP",
                   help="thay cho --to/--archive: tệp cấu hình của kho chung ([catalog] url, [archive] root, "
                        "[storage] — kể cả kho S3 có Object Lock)")  # fmt: skip
    s.add_argument("--index", type=Path, metavar="THƯ_MỤC",
                   help="chỉ mục tìm kiếm của kho chung (mặc định THƯ_MỤC_KHO/.catalog.index)")  # fmt: skip
    json_flag(s)

    s = command("report", cmd_report, "số liệu số hóa kết quả giải quyết TTHC theo cơ quan, thủ tục, tháng")
    s.add_argument("--from", dest="since", type=day, metavar="NGÀY", help="từ ngày (dd/mm/yyyy)")
    s.add_argument("--to", dest="until", type=day, metavar="NGÀY", help="đến ngày (dd/mm/yyyy)")
    s.add_argument("--agency", help="mã cơ quan")
    s.add_argument("--totals", type=Path, metavar="CSV", help="CSV tổng số kết quả còn hiệu lực của từng cơ quan")
    json_flag(s)


def _query(words: list[str]) -> str:
    """The words typed, joined; one argument with spaces was quoted in the shell, so it is a phrase."""
    return " ".join(f'"{w}"' if len(w.split()) > 1 and '"' not in w else w for w in words)


# --- search, show, owner -----------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    from scanner.app import officer as app
    from scanner.archive.index import Filters

    filters = Filters(
        agency=args.agency,
        procedure=args.procedure,
        doc_type=args.doc_type,
        owner=args.owner,
        date_from=args.date_from,
        date_to=args.date_to,
        valid_on=date.today() if args.valid else None,
    )
    query = _query(args.query)
    config = load_config(args)
    with app.open_archive(config) as archive:
        result = app.search(actor(args), query, archive=archive, filters=filters, limit=args.limit)
    if args.json:
        r.print_json(result)
        return EXIT_OK
    for n, h in enumerate(result.hits, start=1):
        print(f"{n}. {h.code}  {h.title or h.type_name or r.DASH}")
        kind = "kết quả giải quyết" if h.kind == "result" else "giấy tờ"
        print(f"   {h.type_name or kind} · ban hành {r.day(h.issued_date)} · hồ sơ {h.dossier_code}")
        print(f"   {h.snippet}")
        print(f"   Tệp: {config.archive.root / h.path}")
        if h.review:
            print(f"   Cần đối chiếu: {r.review(h.review)}")
    if result.notice:
        print(result.notice)
    if result.total == 0:
        print(f"Không tìm thấy văn bản nào khớp với «{query}».")
    else:
        more = "hơn " if result.more else ""
        shown = f" (hiển thị {len(result.hits)})" if len(result.hits) < result.total else ""
        print(f"Tìm thấy {more}{result.total} văn bản{shown}.")
    return EXIT_OK


def _show_dossier(d: app.DossierView, root: Path) -> None:
    r.fields(
        [
            ("Mã hồ sơ", d.code),
            ("Tiêu đề", d.title),
            ("Cơ quan", f"{d.agency_name} ({d.agency_code})" if d.agency_name else d.agency_code),
            ("Quầy tiếp nhận", d.counter),
            ("Mã thủ tục", d.procedure_code),
            ("Chủ hồ sơ", d.owner_id),
            ("Ngày tiếp nhận", r.day(d.receipt_date)),
            ("Mã hồ sơ lưu trữ", d.file_code),
            ("Thời hạn bảo quản", d.retention),
            ("Chế độ sử dụng", d.access),
            ("Người lập", d.creator),
            ("Ngôn ngữ", d.language),
            ("Thời gian bắt đầu", r.day(d.start_date)),
            ("Thời gian kết thúc", r.day(d.end_date)),
            ("Số văn bản", d.doc_total),
            ("Số trang", d.page_total),
            ("Chú giải", d.description),
            ("Thư mục lưu trữ", root / d.path),
            ("Thời điểm lưu trữ", r.time(d.created)),
            ("Cảnh báo", d.warnings),
        ]
    )


def _number(doc: Any) -> str:
    return "/".join(p for p in (doc.code_number, doc.code_notation) if p)


def _show_document(doc: app.DocumentView, root: Path, indent: str = "") -> None:
    signature = ", ".join(p for p in (doc.signer, doc.signature_level, r.time(doc.signed_at)) if p and p != r.DASH)
    r.fields(
        [
            ("Mã văn bản", doc.code),
            ("Thuộc hồ sơ", doc.dossier_code),
            ("Tiêu đề", doc.title),
            ("Loại văn bản", doc.type_name),
            ("Loại", "kết quả giải quyết" if doc.kind == "result" else "giấy tờ nộp"),
            ("Số, ký hiệu", _number(doc)),
            ("Ngày ban hành", r.day(doc.issued_date)),
            ("Cơ quan ban hành", doc.organ_name),
            ("Trích yếu", doc.subject),
            ("Hiệu lực từ", r.day(doc.valid_from)),
            ("Hiệu lực đến", r.day(doc.valid_until) if doc.valid_until else "không thời hạn"),
            ("Người được cấp", " ".join(p for p in (doc.holder_name, doc.holder_id) if p)),
            ("Số định danh ghi trên văn bản", doc.identifiers),
            ("Số trang", doc.pages),
            ("Tệp", root / doc.path),
            ("SHA-256", doc.sha256),
            ("PDF/A", doc.pdfa),
            ("Chữ ký", signature),
            ("Độ tin cậy nhận dạng", f"{r.text(doc.ocr_confidence)}%" if doc.ocr_confidence is not None else None),
            ("Cần đối chiếu", r.review(doc.review)),
        ],
        indent,
    )


def cmd_show(args: argparse.Namespace) -> int:
    from scanner.app import officer as app

    config = load_config(args)
    with app.open_archive(config) as archive:
        shown = app.show(actor(args), args.code, archive=archive)
    if args.json:
        r.print_json(shown)
        return EXIT_OK
    if shown.document is not None:
        _show_document(shown.document, config.archive.root)
        print(f"\nHồ sơ {shown.dossier.code}: {shown.dossier.title or r.DASH}")
        return EXIT_OK
    _show_dossier(shown.dossier, config.archive.root)
    for doc in shown.documents:
        print()
        _show_document(doc, config.archive.root, "  ")
    return EXIT_OK


def cmd_owner(args: argparse.Namespace) -> int:
    """What a counter checks before asking a citizen for a paper: what is already digitized and still valid."""
    from scanner.app import officer as app

    config = load_config(args)
    with app.open_archive(config) as archive:
        found = app.owner(actor(args), args.owner_id, archive=archive)
    if args.json:
        r.print_json(found.papers)
        return EXIT_OK
    if not found.papers:
        print(f"Không có giấy tờ, kết quả nào còn hiệu lực của {args.owner_id} trong kho.")
    for p in found.papers:
        kind = "kết quả" if p.kind == "result" else "giấy tờ"
        until = f"hiệu lực đến {r.day(p.valid_until)}" if p.valid_until else "không thời hạn"
        number = f"số {_number(p)}" if _number(p) else ""
        parts = [p.code, kind, p.type_name or p.title or r.DASH, number, f"ban hành {r.day(p.issued_date)}", until]
        print("  ".join(x for x in parts if x))
        print(f"  {p.agency_name} · hồ sơ {p.dossier_code} · {config.archive.root / p.path}")
    return EXIT_OK


# --- verify, export, delete ----------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from scanner.app import officer as app

    config = load_config(args)
    with app.open_archive(config) as archive:
        result = app.verify(actor(args), args.codes, archive=archive, everything=args.all)
    if args.json:
        r.print_json(
            [
                {
                    "code": c.document_code or c.path,
                    "path": c.path,
                    "dossier_code": c.dossier_code,
                    "role": c.role,
                    "ok": c.ok,
                    "problems": list(c.problems),
                    "details": c.signature.splitlines(),
                    "expected": c.expected,
                    "actual": c.actual,
                }
                for c in result.checks
            ]
            + [
                {"code": "catalog", "path": config.archive.catalog_label, "role": "catalog", "ok": False,
                 "problems": list(result.catalog_problems)}
            ] * bool(result.catalog_problems)
        )  # fmt: skip
    else:
        names = {"orphan": "HỒ SƠ MỒ CÔI", "stray": "TỆP LẠ"}
        for c in result.checks:
            verdict = "HỢP LỆ" if c.ok else names.get(c.role, "LỖI")
            print(f"{verdict}  {c.document_code or c.path}  {config.archive.root / c.path}")
            if c.actual == c.expected:
                print("    SHA-256: khớp danh mục")
            for line in c.signature.splitlines():
                print(f"    {line}")
            for p in c.problems:
                print(f"    - {p}")
        if result.catalog_problems:
            print(f"LỖI  danh mục  {config.archive.catalog_label}")
            for p in result.catalog_problems:
                print(f"    - {p}")
        print(f"{len(result.checks) - result.failures}/{len(result.checks)} tệp hợp lệ")
    return EXIT_OK if result.ok else EXIT_INPUT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from scanner.app import officer as app

    with app.open_archive(load_config(args)) as archive:
        exported = app.export(actor(args), args.code, args.out, archive=archive)
    print(exported.bag)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletion is a request approved by a second person; no file is removed by this program."""
    from scanner.app import officer as app
    from scanner.app import records

    if args.pending == bool(args.code):
        raise ConfigError("cần MÃ (với --reason hoặc --approve), hoặc --pending", "give CODE or --pending")
    if args.code and args.approve == bool(args.reason):
        raise ConfigError(
            "cần đúng một trong --reason (đề nghị) và --approve (phê duyệt)", "give --reason or --approve"
        )
    person = actor(args)
    with app.open_archive(load_config(args)) as archive:
        if args.pending:
            pending = records.pending_deletions(person, archive=archive)
        elif args.approve:
            approval = records.approve_deletion(person, args.code, archive=archive)
        else:
            request = records.request_deletion(person, args.code, args.reason, archive=archive)
    if args.pending:
        if args.json:
            r.print_json(pending)
        elif not pending:
            print("Không có đề nghị hủy nào đang chờ phê duyệt.")
        for q in [] if args.json else pending:
            print(f"{q.code}  {r.time(q.requested_at)}  {q.requested_by}: {q.reason}")
    elif args.approve:
        if args.json:
            r.print_json(approval)
        else:
            req = approval.request
            print(
                f"{approval.approved_by} đã phê duyệt đề nghị hủy {req.code} của {req.requested_by} "
                f"({r.time(req.requested_at)}). Tệp vẫn còn trong kho; việc hủy thực hiện theo quy trình tiêu hủy."
            )
            for kept in approval.kept:  # S3 Object Lock: the store refuses until retain-until
                print(f"  ⚠ {kept.reason}")
    elif args.json:
        r.print_json(request)
    else:
        print(f"Đã ghi nhận đề nghị hủy {request.code}; chờ một người khác phê duyệt (scanner delete MÃ --approve).")
        print("Tệp vẫn được giữ nguyên trong kho lưu trữ.")
    return EXIT_OK


# --- audit, reindex, report ----------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from scanner.app import officer as app
    from scanner.app import records

    person = actor(args)
    config = load_config(args)
    with app.open_archive(config) as archive:
        if args.action == "checkpoint":
            written = records.audit_checkpoint(person, archive=archive, signing=config.signing)
            if args.json:
                r.print_json(written)
            else:
                print(
                    f"Đã ký điểm neo {config.archive.root / written.path}: đến mục {written.last_id} "
                    f"({written.count} mục), {r.time(written.time)}"
                )
            return EXIT_OK
        if args.action == "list":
            entries = records.audit_list(person, archive=archive, limit=args.limit)
            if args.json:
                r.print_json(entries)
            for e in [] if args.json else entries:
                detail = f"  {e.detail}" if e.detail else ""
                print(f"{e.id:>6}  {r.time(e.time)}  {e.actor}  {e.action_vi}  {e.subject}{detail}")
            return EXIT_OK
        check = records.audit_verify(person, archive=archive)
    if args.json:
        r.print_json(
            {
                "ok": check.ok,
                "entries": check.entries,
                "checkpoints": check.checkpoints,
                "problems": check.problems,
                "notes": check.notes,
            }
        )
    elif check.problems:
        print("Nhật ký kiểm toán KHÔNG còn nguyên vẹn:")
        for p in check.problems:
            print(f"  - {p}")
    else:
        print(
            f"Nhật ký kiểm toán nguyên vẹn: {check.entries} mục, chuỗi băm khớp, "
            f"{check.checkpoints} điểm neo đã ký còn khớp."
        )
    for note in [] if args.json else check.notes:
        print(f"Lưu ý: {note}")
    return EXIT_OK if check.ok else EXIT_INPUT_FAILED


def cmd_reindex(args: argparse.Namespace) -> int:
    from scanner.app import officer as app

    def progress(n: int) -> None:
        log.info("đã đưa %s văn bản vào chỉ mục mới", n)

    with app.open_archive(load_config(args)) as archive:
        done = app.reindex(actor(args), archive=archive, progress=progress)
    print(f"Đã dựng lại chỉ mục tìm kiếm: {done.documents} văn bản")
    return EXIT_OK


def cmd_indexer(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; a batch being indexed is committed or dropped, never half-counted."""
    from scanner.app import officer as app

    config = load_config(args)
    if not config.archive.index.service:
        raise ConfigError(
            "scanner indexer chỉ chạy khi [index] service = true (khi đó các máy khác không ghi chỉ mục nữa)",
            "scanner indexer runs only with [index] service = true (then no other machine writes the index)",
        )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("nhận tín hiệu %s: dừng dịch vụ chỉ mục", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("dịch vụ chỉ mục tìm kiếm: %s", config.archive.index_path)
    with app.open_archive(config) as archive:
        app.index_service(
            actor(args), archive=archive, stop=stop, on_batch=lambda n: log.info("đã đưa %s văn bản vào chỉ mục", n)
        )
    log.info("đã dừng dịch vụ chỉ mục")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from scanner.app import officer as app
    from scanner.app import records

    with app.open_archive(load_config(args)) as archive:
        rep = records.report(
            actor(args), archive=archive, since=args.since, until=args.until, agency=args.agency, totals=args.totals
        )
    if args.json:
        r.print_json(
            {
                "from": rep.since,
                "to": rep.until,
                "agency": rep.agency,
                "rows": rep.rows,
                "rates": [{**r.plain(t), "rate": round(t.rate, 2)} for t in rep.rates],
            }
        )
        return EXIT_OK
    print(f"Kết quả giải quyết TTHC đã số hóa, {r.day(rep.since)} – {r.day(rep.until)}")
    print(f"{'Cơ quan':<20} {'Thủ tục':<12} {'Tháng':<8} {'Bổ sung':>8} {'Mới':>6} {'Còn HL':>7} {'Trang':>7}")
    for row in rep.rows:
        print(
            f"{row.agency:<20} {row.procedure or r.DASH:<12} {row.month:<8} {row.backfilled:>8} {row.new:>6} "
            f"{row.still_valid:>7} {row.pages:>7}"
        )
    if not rep.rows:
        print("(chưa có kết quả nào được số hóa trong khoảng này)")
    for t in rep.rates:
        print(f"Tỷ lệ số hóa {t.agency}: {t.digitized_valid}/{t.total_valid} = {t.rate:.1f}%")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    """Open the workstation's archive and the shared one, move, render; a password on the command line is refused."""
    import socket

    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    from scanner.app import officer as app
    from scanner.app import records
    from scanner.archive import Catalog
    from scanner.config import load_config as load_target

    if args.target_config is not None:
        if args.target or args.target_root:
            raise ConfigError("--to-config thay cho --to và --archive: chỉ dùng một cách",
                              "--to-config replaces --to and --archive: use one", code="usage")  # fmt: skip
        config, shared_config = load_config(args), load_target(args.target_config)
        if shared_config.archive.catalog_path is not None:
            raise ConfigError(f"{args.target_config}: kho chung cần [catalog] url = \"postgresql://…\"",
                              f"{args.target_config}: the shared archive needs a PostgreSQL [catalog] url",
                              code="usage")  # fmt: skip
        label = f"{socket.gethostname()}:{config.archive.root.resolve()}"
        with app.open_archive(config) as source, app.open_archive(shared_config) as target:
            report = records.move_up(actor(args), source=source, target=target, work=config.archive.work, label=label)
        return _moved(args, report, shared_config.storage.location or str(shared_config.archive.root))
    if not (args.target and args.target_root):
        raise ConfigError("cần --to URL và --archive THƯ_MỤC, hoặc --to-config TỆP",
                          "--to URL and --archive DIR, or --to-config FILE, are required", code="usage")  # fmt: skip
    try:
        url = make_url(args.target)
    except ArgumentError:
        raise ConfigError("--to: URL không đúng dạng postgresql://vai-trò@máy/cơ-sở-dữ-liệu",
                          "--to: not a database URL", code="usage") from None  # fmt: skip
    if url.password:
        raise ConfigError(
            "--to: không ghi mật khẩu trên dòng lệnh (ai cũng xem được): đặt PGPASSWORD hoặc dùng ~/.pgpass",
            "--to: no password on the command line: set PGPASSWORD or use ~/.pgpass",
            code="usage",
        )
    if not url.get_backend_name().startswith("postgresql"):
        raise ConfigError("--to: kho chung là cơ sở dữ liệu PostgreSQL (postgresql://…)",
                          "--to: the shared archive is a PostgreSQL database", code="usage")  # fmt: skip
    config = load_config(args)
    root = args.target_root.resolve()
    index = args.index or root / ".catalog.index"
    label = f"{socket.gethostname()}:{config.archive.root.resolve()}"
    with app.open_archive(config) as source, Catalog(url, index_path=index) as shared:
        target = app.Archive(shared, root, source.trust_roots)
        report = records.move_up(actor(args), source=source, target=target, work=config.archive.work, label=label)
    return _moved(args, report, str(root))


def _moved(args: argparse.Namespace, report: Any, where: str) -> int:
    if args.json:
        r.print_json({"source": report.source, "target": report.target, "anchored": report.anchored,
                      "dossiers": [vars(d) for d in report.dossiers]})  # fmt: skip
    else:
        for d in report.dossiers:
            if d.outcome == "refused":
                print(f"LỖI  {d.code}: {d.problem}")
        print(f"Chuyển từ {report.source} lên {report.target} ({where}): {report.count('moved')} hồ sơ đã chuyển, "
              f"{report.count('present')} đã có sẵn, {report.count('refused')} không chuyển được")  # fmt: skip
        if report.anchored:
            print(f"Nhật ký kiểm toán của máy trạm được giữ tại {report.anchored} và neo vào nhật ký kho chung")
    return EXIT_OK if report.ok else EXIT_INPUT_FAILED
