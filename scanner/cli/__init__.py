"""The ``scanner`` command: parse, call the application layer, render.

Exit status: 0 all good, 1 some inputs failed (or a check found a problem),
2 usage or configuration error. Every exception of the project is mapped to
its status here, in one place, and shown to the user in Vietnamese.

The parser speaks Vietnamese too, argparse's own texts included: a clerk who
mistypes a flag reads the same language as everywhere else. Options common
to every command (``--config``, ``-v``, ``--user``) are accepted before or
after the command name, because people type them where they remember them.
The command modules add their own subcommands: ``counter`` the clerk's and
the service's, ``officer`` the archive officer's and the records team's,
``web`` the web workstation's (serve, user accounts, API clients).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from scanner.app import Actor, Role
from scanner.errors import EXIT_USAGE, ScannerError

log = logging.getLogger("scanner")

# Libraries whose INFO and DEBUG lines are for their developers, not for clerks: shown with -v only.
NOISY_LOGGERS = (
    "alembic",
    "bagit",
    "fontTools",
    "PIL",
    "pikepdf",
    "pyhanko",
    "pyhanko_certvalidator",
    "sqlalchemy",
    "watchdog",
)

# argparse's own messages (Python 3.11 wording), in the order tried.
_ARGPARSE_VI: tuple[tuple[str, str], ...] = (
    (r"^argument (.+?): ", r"đối số \1: "),
    (r"the following arguments are required: ", "thiếu đối số bắt buộc: "),
    (r"invalid choice: (.+) \(choose from (.+)\)", r"lựa chọn không hợp lệ: \1 (chọn một trong: \2)"),
    (r"unrecognized arguments: ", "đối số không nhận ra: "),
    (r"expected one argument", "cần một giá trị"),
    (r"expected at least one argument", "cần ít nhất một giá trị"),
    (r"expected at most one argument", "cần nhiều nhất một giá trị"),
    (r"invalid int value: ", "cần một số nguyên, không phải "),
    (r"invalid float value: ", "cần một số, không phải "),
    (r"invalid \w+ value: ", "giá trị không hợp lệ: "),
    (r"one of the arguments (.+) is required", r"cần một trong các đối số \1"),
    (r"not allowed with argument ", "không dùng chung được với đối số "),
    (r"ambiguous option: (.+) could match (.+)", r"tùy chọn \1 không rõ ràng, có thể là \2"),
    (r"ignored explicit argument ", "đối số thừa: "),
)


def translate_argparse(message: str) -> str:
    for pattern, replacement in _ARGPARSE_VI:
        message = re.sub(pattern, replacement, message)
    return message


# Placeholders for option values in the help, by option name.
_METAVAR_VI = {
    "limit": "SỐ",
    "jobs": "SỐ",
    "counter": "QUẦY",
    "agency": "MÃ_CƠ_QUAN",
    "agency_name": "TÊN",
    "procedure": "MÃ_TTHC",
    "owner": "SỐ_ĐỊNH_DANH",
    "doc_type": "LOẠI",
    "output": "TỆP",
    "pdfa": "MỨC",
    "image_storage": "CÁCH",
    "language": "NGÔN_NGỮ",
    "sidecar": "TỆP",
    "manifest": "TỆP",
}


class _Formatter(argparse.HelpFormatter):
    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return _METAVAR_VI.get(action.dest, "GIÁ_TRỊ")

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "Cách dùng: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose headings, help and errors are in Vietnamese, and whose errors exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "đối số"
        self._optionals.title = "tùy chọn"
        self.add_argument("-h", "--help", action="help", help="in hướng dẫn này rồi thoát")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: lỗi cú pháp lệnh: {translate_argparse(message)}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# --- shared argument types -----------------------------------------------------------------


def day(value: str) -> date:
    """A date as clerks write it (``05/02/2024``, ``5/2/2024``) or as ISO 8601 (``2024-02-05``)."""
    text = value.strip()
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"ngày '{value}' không hợp lệ (dạng dd/mm/yyyy hoặc yyyy-mm-dd)")


def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"'{value}' phải là số nguyên dương")
    return n


def _common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """--config, -v, --user; on the subcommands without defaults, so one given there overrides the top level."""
    keep: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--config",
        type=Path,
        metavar="TỆP",
        help="tệp cấu hình TOML (mặc định: biến môi trường SCANNER_CONFIG)",
        **keep,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết, kể cả của thư viện", **keep)
    parser.add_argument(
        "--user",
        metavar="TÊN",
        help="người thực hiện, ghi vào nhật ký kiểm toán (mặc định: biến SCANNER_USER, rồi tên đăng nhập)",
        **keep,
    )


def parser() -> argparse.ArgumentParser:
    from scanner.cli import counter, officer, web

    p = Parser(prog="scanner", description="Số hóa hồ sơ tại Bộ phận Một cửa")
    _common_options(p, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, defaults=False)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser, title="lệnh", metavar="LỆNH")
    counter.add_commands(sub, common)
    officer.add_commands(sub, common)
    web.add_commands(sub, common)
    return p


def actor(args: argparse.Namespace) -> Actor:
    """The acting person: --user, else SCANNER_USER, else whoever is logged in to the workstation."""
    name = args.user or os.environ.get("SCANNER_USER", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "?"
    return Actor(name, Role.OFFICER)


def load_config(args: argparse.Namespace) -> Any:
    from scanner.config import load_config

    return load_config(args.config)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger().setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


def _quiet_broken_pipe() -> int:
    """The reader went away (``scanner audit list | head -1``): stop quietly, like any Unix tool.

    Whatever is still buffered for stdout would raise again when Python
    flushes at exit, so stdout is pointed at /dev/null first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is no real file (a test's capture): nothing will be flushed to a pipe
    return 141  # 128 + SIGPIPE, what the shell reports for a tool killed by it


def main(argv: Sequence[str] | None = None) -> int:
    # the catalog, the archive and the quarantine hold citizens' IDs and texts: nothing for other users
    os.umask(0o027)
    args = parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows up here, where it can still be handled quietly
        return status
    except ScannerError as exc:
        print(f"scanner: {exc.message_vi}", file=sys.stderr)
        if exc.message_en != exc.message_vi:
            print(f"scanner: ({exc.message_en})", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        return 130
