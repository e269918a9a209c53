"""The counter's and the service's commands: the clerk's dossier, init, ocr, process, watch, status, backfill.

Each command parses its arguments, calls one use case of ``scanner.app`` and
renders the typed result; nothing here decides anything about a dossier.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from scanner.cli import actor as _actor
from scanner.cli import load_config as _config
from scanner.cli.render import print_json as _print_json
from scanner.cli.render import time as _time
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
    s.add_argument(
        "--image-storage",
        choices=("compact", "lossless"),
        default="compact",
        help="cách lưu ảnh trang: compact (mặc định; trang đen trắng 1 bit, trang màu tách lớp, ~100 KB/trang) "
        "hoặc lossless (giữ nguyên ảnh đã làm sạch)",
    )
    s.add_argument("-l", "--language", default="vie", help="ngôn ngữ Tesseract, ví dụ vie hoặc vie+eng")
    s.add_argument("--jobs", type=int, default=0, help="số tiến trình (0 = số nhân CPU)")
    s.add_argument("--sidecar", type=Path, help="ghi thêm văn bản nhận dạng được vào tệp này (UTF-8)")
    prior = s.add_mutually_exclusive_group()
    prior.add_argument(
        "--skip-text",
        dest="prior",
        action="store_const",
        const="skip-text",
        help="bỏ qua (không đưa vào tệp kết quả) các PDF đã có lớp chữ hoặc đã được ký số, có báo tên tệp; "
        "mặc định: từ chối và dừng",
    )
    prior.add_argument(
        "--force-ocr",
        dest="prior",
        action="store_const",
        const="force-ocr",
        help="vẫn chuyển thành ảnh và nhận dạng lại PDF đã có lớp chữ hoặc chữ ký số "
        "(lớp chữ cũ bị thay, chữ ký số không còn trong bản mới)",
    )
    prior.add_argument(
        "--redo-ocr",
        dest="prior",
        action="store_const",
        const="redo-ocr",
        help="hiện giống hệt --force-ocr (chưa có chế độ chỉ thay lớp chữ nhận dạng cũ mà giữ nguyên trang)",
    )

    s = command("process", cmd_process, "xử lý một hồ sơ qua toàn bộ quy trình")
    s.add_argument("inputs", nargs="+", type=Path, metavar="TỆP", help="mỗi tệp là một văn bản của hồ sơ")
    s.add_argument("--counter", required=True, help="tên quầy, ví dụ quay-1")
    s.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    command("watch", cmd_watch, "dịch vụ: theo dõi hộp thư đến của các quầy và xử lý tệp mới")

    s = command("worker", cmd_worker, "máy xử lý của hàng đợi chung: làm sạch, nhận dạng, tạo PDF, ký số, lưu trữ")
    s.add_argument("--name", default="", help="tên trong danh sách hàng đợi (mặc định: tên máy:số tiến trình)")

    s = command("status", cmd_status, "hồ sơ đang mở và các hồ sơ gần đây của quầy, tệp bị cách ly")
    s.add_argument("--counter", help="chỉ quầy này")
    s.add_argument("--limit", type=int, default=20, help="số dòng tối đa (mặc định 20)")
    s.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    s.add_argument("--queue", action="store_true", help="hàng đợi chung: hồ sơ đang chờ, đang xử lý ở máy nào, bị lỗi")

    s = command("open", cmd_open, "mở hồ sơ mới tại quầy (hồ sơ đang mở được đóng lại)")
    s.add_argument("--counter", required=True, help="tên quầy, ví dụ quay-1")
    s.add_argument("--procedure", help="mã thủ tục hành chính, ví dụ 1.000894")
    s.add_argument("--owner", help="số định danh cá nhân / mã số thuế của người nộp")

    s = command("close", cmd_close, "đóng hồ sơ đang mở của quầy: dịch vụ ký số và lưu trữ ngay")
    s.add_argument("--counter", required=True, help="tên quầy, ví dụ quay-1")

    s = command("dossier", cmd_dossier, "xem hồ sơ đang xử lý: văn bản, trang, trường cần xác nhận")
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")
    s.add_argument("--json", action="store_true", help="in kết quả dạng JSON")

    s = command("details", cmd_details, "nhập mã thủ tục và số định danh người nộp cho hồ sơ")
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")
    s.add_argument("--procedure", help="mã thủ tục hành chính")
    s.add_argument("--owner", help="số định danh cá nhân / mã số thuế")

    s = command("page", cmd_page, "sửa trang của hồ sơ: xoay, xóa, chuyển chỗ, thay bằng bản quét lại, tách văn bản")
    s.add_argument(
        "action",
        choices=("rotate", "delete", "move", "replace", "split"),
        metavar="THAO_TÁC",
        help="rotate (xoay), delete (xóa), move (chuyển), replace (thay), split (tách văn bản mới từ trang)",
    )
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")
    s.add_argument("page", metavar="TRANG", help="mã trang (xem bằng lệnh dossier)")
    s.add_argument("--degrees", type=int, default=90, help="xoay theo chiều kim đồng hồ: 90, 180, 270")
    s.add_argument("--before", default="", metavar="TRANG", help="move: đặt trước trang này")
    s.add_argument("--file", type=Path, metavar="TỆP", help="replace: tệp quét lại (một trang)")

    s = command("merge", cmd_merge, "gộp một văn bản vào văn bản liền trước")
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")
    s.add_argument("document", type=int, metavar="VĂN_BẢN", help="số thứ tự văn bản (từ 2)")

    s = command("field", cmd_field, "sửa một trường của văn bản (số, ngày, loại, trích yếu, người được cấp, hiệu lực…)")
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")
    s.add_argument("document", type=int, metavar="VĂN_BẢN", help="số thứ tự văn bản (từ 1)")
    s.add_argument("name", metavar="TRƯỜNG", help="number, issued_date, type_name, subject, holder_name, valid_until…")
    s.add_argument("value", metavar="GIÁ_TRỊ", help="giá trị đúng; ngày dạng dd/mm/yyyy hoặc yyyy-mm-dd")

    s = command("confirm", cmd_confirm, "xác nhận hồ sơ đã kiểm tra (Hoàn tất): dịch vụ ký số và lưu trữ")
    s.add_argument("ref", metavar="HỒ_SƠ", help="mã hồ sơ hoặc mã công việc")

    s = command("backfill", cmd_backfill, "số hóa hàng loạt kết quả cũ còn hiệu lực theo bảng kê CSV")
    s.add_argument("src", type=Path, metavar="NGUỒN", help="thư mục chứa các tệp quét")
    s.add_argument("--manifest", type=Path, required=True, help="bảng kê CSV (UTF-8, có dòng tiêu đề)")
    s.add_argument("--jobs", type=int, default=0, help="số kết quả xử lý song song (0 = số nhân CPU)")
    s.add_argument("--counter", help="quầy/cơ quan nhận (mặc định: quầy đầu tiên trong cấu hình)")
    s.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra bảng kê, không số hóa")


def _clerk(args: argparse.Namespace) -> Any:
    from scanner.app import Role

    return replace(_actor(args), role=Role.CLERK, counter=getattr(args, "counter", None))


@contextmanager
def _station(args: argparse.Namespace, *, pool: bool = False) -> Iterator[Any]:
    from scanner.app.counter import Station
    from scanner.archive import open_catalog
    from scanner.pipeline import Pipeline, make_pool

    config = _config(args)
    with open_catalog(config.archive) as catalog:
        if not pool:
            yield Station(config, catalog)
            return
        with make_pool(config.processes) as workers:
            yield Station(config, catalog, Pipeline(config, catalog, workers))


# --- init / ocr -----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from scanner.app.setup import init_workstation

    done = init_workstation(args.root, agency=args.agency, agency_name=args.agency_name)
    if done.created:
        root = done.config_path.parent
        print(
            f"Đã khởi tạo máy trạm tại {root} (khóa ký chỉ dùng thử nghiệm, không dùng cho sản xuất)", file=sys.stderr
        )
    else:
        print(f"Máy trạm đã được khởi tạo: {done.config_path}", file=sys.stderr)
    print(done.config_path)
    return EXIT_OK


def cmd_ocr(args: argparse.Namespace) -> int:
    from scanner.app.ocrtool import PriorWork, ocr_files

    done = ocr_files(
        args.inputs,
        args.output,
        pdfa=args.pdfa,
        image_storage=args.image_storage,
        languages=tuple(args.language.split("+")),
        jobs=args.jobs,
        sidecar=args.sidecar,
        prior=PriorWork(args.prior or PriorWork.REFUSE),
    )
    for notice in done.notices:
        print(f"scanner: {notice}", file=sys.stderr)
    print(done.output)
    return EXIT_OK


# --- process / watch ----------------------------------------------------------------------


def cmd_process(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args, pool=True) as station:
        outcome = clerk.process(_clerk(args), station, args.inputs, args.counter)
        root = station.config.archive.root
        bucket = station.config.storage.location or None
    if args.json:
        _print_json(
            {
                "dossier_code": outcome.dossier_code,
                "state": str(outcome.state),
                "documents": [
                    {"code": d.code, "title": d.title, "path": d.path.relative_to(root).as_posix(), "pages": d.pages}
                    for d in outcome.documents
                ],
                "warnings": list(outcome.warnings) + ([outcome.error] if outcome.error else []),
            }
        )
    else:
        _print_outcome(outcome, root, bucket)  # a stored file by its full path; on S3 its object's address
    return EXIT_OK if outcome.ok else EXIT_INPUT_FAILED


def _print_outcome(outcome: Any, root: Path, bucket: str | None = None) -> None:
    if outcome.state == "reviewing":
        print(f"Hồ sơ {outcome.dossier_code}: chờ cán bộ kiểm tra các trường bị đánh dấu trước khi ký số")
        print(f"  Xem: scanner dossier {outcome.dossier_code}; xác nhận: scanner confirm {outcome.dossier_code}")
    elif outcome.dossier_code:
        print(f"Hồ sơ {outcome.dossier_code}: {len(outcome.documents)} văn bản đã ký số và lưu trữ")
        for d in outcome.documents:
            where = f"{bucket}{d.path.relative_to(root).as_posix()}" if bucket else d.path
            print(f"  {d.code}  {d.pages} trang  {d.title}\n    {where}")
    for w in outcome.warnings:
        print(f"  Cảnh báo: {w}")
    if outcome.error:
        print(f"  Lỗi: {outcome.error}")


def cmd_watch(args: argparse.Namespace) -> int:
    from scanner.capture.watch import serve

    return serve(_config(args))


# --- the clerk's dossier ----------------------------------------------------------------------


def _dossier_json(view: Any) -> dict[str, Any]:
    return {
        "job": view.job_id,
        "counter": view.counter,
        "dossier_code": view.dossier_code or None,
        "state": str(view.state),
        "state_vi": view.state_vi,
        "procedure_code": view.procedure_code,
        "owner_id": view.owner_id,
        "documents": [
            {
                "ordinal": d.ordinal,
                "pages": [p.__dict__ for p in d.pages],
                "fields": [f.__dict__ for f in d.fields],
                "review": list(d.flagged),
            }
            for d in view.documents
        ],
        "pages": view.pages,
        "warnings": list(view.warnings),
        "error": view.error or None,
        "updated": view.updated,
    }


def _print_dossier(view: Any, *, detail: bool) -> None:
    code = view.dossier_code or "(chưa cấp mã)"
    docs = len(view.documents)
    print(f"{_time(view.updated)}  {view.counter}  {code}  {view.state_vi}  {docs} văn bản, {view.pages} trang")
    if view.error:
        print(f"    ! {view.error}")
    for d in view.documents if detail else ():
        ready = sum(p.recognized for p in d.pages)
        print(f"    Văn bản {d.ordinal}: {len(d.pages)} trang ({ready} đã nhận dạng)")
        for p in d.pages:
            conf = f"độ tin cậy {p.confidence:.0f}%" if p.confidence is not None else "đang nhận dạng"
            note = f" — {p.error}" if p.error else ""
            print(f"      trang {p.id}  {p.source}  {conf}{note}")
        for f in d.fields:
            mark = "  ⚠ cần xác nhận" if f.flagged else ("  (đã sửa)" if f.corrected else "")
            print(f"      {f.label}: {f.value or '—'}{mark}")
    for w in view.warnings:
        print(f"    ! {w}")


def cmd_worker(args: argparse.Namespace) -> int:
    from scanner.queue.worker import work

    return work(_config(args), name=args.name)


def cmd_status(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    if args.queue:
        return _queue_status(args)
    with _station(args) as station:
        now = clerk.status(_clerk(args), station, counter=args.counter, limit=args.limit)
    if args.json:
        _print_json(
            {
                "dossiers": [_dossier_json(v) for v in now.dossiers],
                "quarantined": [q.__dict__ for q in now.quarantined],
            }
        )
        return EXIT_OK
    for view in now.dossiers:
        _print_dossier(view, detail=not view.state.finished)
    for q in now.quarantined:
        print(f"{_time(q.time)}  {q.counter}  tệp {q.name}  đã cách ly ({q.reason_code}): {q.reason}")
    if not now.dossiers and not now.quarantined:
        print("Chưa có hồ sơ nào.")
    return EXIT_OK


def _queue_status(args: argparse.Namespace) -> int:
    from scanner.app.queue import queue_status

    with _station(args) as station:
        now = queue_status(_actor(args), station.config, station.catalog, limit=args.limit)
    groups = (("Đang xử lý", now.running), ("Đang chờ", now.waiting), ("Lỗi", now.failed))
    if args.json:
        _print_json(
            {
                key: [{**d.__dict__, "state": str(d.state), "queue_vi": d.queue_vi} for d in items]
                for key, (_, items) in zip(("running", "waiting", "failed"), groups, strict=True)
            }
        )
        return EXIT_OK
    for title, items in groups:
        print(f"{title} ({len(items)}):")
        for d in items:
            where = f" trên {d.worker}" if d.worker else ""
            kind = "số hóa tồn đọng" if d.backfill else "quầy"
            after = f", không trước {_time(d.not_before.isoformat())}" if d.not_before and d.queue == "todo" else ""
            error = f": {d.error}" if d.error and d.queue != "doing" else ""
            code = d.dossier_code or d.job_id
            print(f"  {code}  {d.station}/{d.counter} ({kind})  {d.queue_vi}{where}, "
                  f"{d.state.label_vi}, lần thử {d.attempts}{after}{error}")  # fmt: skip
    return EXIT_OK


def _show(view: Any) -> int:
    _print_dossier(view, detail=True)
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.open_dossier(
            _clerk(args), station, args.counter, procedure_code=args.procedure or "", owner_id=args.owner or ""
        )
    print(f"Đã mở hồ sơ mới tại quầy {view.counter} (công việc {view.job_id}).")
    return EXIT_OK


def cmd_close(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.close_dossier(_clerk(args), station, args.counter)
    print(f"Đã đóng hồ sơ {view.dossier_code or view.job_id}: {view.state_vi}.")
    return EXIT_OK


def cmd_dossier(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.dossier(_clerk(args), station, args.ref)
    if args.json:
        _print_json(_dossier_json(view))
        return EXIT_OK
    return _show(view)


def cmd_details(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.set_details(_clerk(args), station, args.ref, procedure_code=args.procedure, owner_id=args.owner)
    return _show(view)


def cmd_page(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk
    from scanner.errors import ConfigError

    who = _clerk(args)
    with _station(args) as station:
        if args.action == "rotate":
            view = clerk.rotate_page(who, station, args.ref, args.page, args.degrees)
        elif args.action == "delete":
            view = clerk.delete_page(who, station, args.ref, args.page)
        elif args.action == "move":
            view = clerk.move_page(who, station, args.ref, args.page, before=args.before)
        elif args.action == "replace":
            if args.file is None:
                raise ConfigError("replace cần --file TỆP (bản quét lại)", "replace needs --file")
            view = clerk.replace_page(who, station, args.ref, args.page, args.file)
        else:
            view = clerk.split_document(who, station, args.ref, args.page)
    return _show(view)


def cmd_merge(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.merge_document(_clerk(args), station, args.ref, args.document)
    return _show(view)


def cmd_field(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.correct_field(_clerk(args), station, args.ref, args.document, args.name, args.value)
    return _show(view)


def cmd_confirm(args: argparse.Namespace) -> int:
    from scanner.app import counter as clerk

    with _station(args) as station:
        view = clerk.confirm(_clerk(args), station, args.ref)
    print(f"Đã xác nhận hồ sơ {view.dossier_code or view.job_id}: {view.state_vi}.")
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
