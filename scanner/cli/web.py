"""The web workstation's commands: ``serve``, ``user add|passwd|disable|list``, ``api-client add``.

Passwords are read from a prompt (or, when stdin is not a terminal, from
its first line), never from the command line: argv is visible to every user
of the machine and lands in shell histories. Whoever runs these commands has
the workstation's shell and so its catalog file: they act as an
administrator, which is how the first administrator is made.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from typing import Any

from scanner.cli import actor as _actor
from scanner.cli import load_config as _config
from scanner.errors import EXIT_OK, InputError


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    def command(parent: Any, name: str, handler: Any, help: str) -> argparse.ArgumentParser:
        s = parent.add_parser(name, help=help, description=help, parents=[common])
        s.set_defaults(handler=handler)
        return s

    s = command(sub, "serve", cmd_serve, "chạy máy trạm web (quầy tiếp nhận, lưu trữ, API) và dịch vụ số hóa")
    s.add_argument("--host", default="127.0.0.1", help="địa chỉ lắng nghe (mặc định 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="cổng (mặc định 8000)")
    s.add_argument(
        "--without-service",
        action="store_true",
        help="chỉ phục vụ trang web (dịch vụ số hóa chạy riêng: scanner watch)",
    )

    from scanner.app import Role

    roles = [r.value for r in Role if r not in (Role.SYSTEM, Role.API)]
    user = sub.add_parser("user", help="tài khoản người dùng", description="tài khoản người dùng")
    users = user.add_subparsers(
        dest="user_command", required=True, title="lệnh", metavar="LỆNH", help="add, passwd, disable hoặc list"
    )
    s = command(users, "add", cmd_user_add, "thêm người dùng (mật khẩu nhập từ bàn phím hoặc stdin)")
    s.add_argument("name", metavar="TÊN", help="tên đăng nhập")
    s.add_argument("--role", required=True, choices=roles, help="vai trò: " + ", ".join(roles))
    s.add_argument("--display-name", default="", metavar="HỌ_TÊN", help="họ và tên")
    s.add_argument("--counter", help="quầy của cán bộ tiếp nhận")
    s.add_argument("--agency", help="mã cơ quan của cán bộ lưu trữ")
    s = command(users, "passwd", cmd_user_passwd, "đặt mật khẩu mới (mở khóa tài khoản, kết thúc các phiên)")
    s.add_argument("name", metavar="TÊN", help="tên đăng nhập")
    s = command(users, "disable", cmd_user_disable, "vô hiệu hóa tài khoản (kết thúc mọi phiên đang mở)")
    s.add_argument("name", metavar="TÊN", help="tên đăng nhập")
    command(users, "list", cmd_user_list, "danh sách người dùng")

    client = sub.add_parser("api-client", help="hệ thống gọi API", description="hệ thống gọi API")
    clients = client.add_subparsers(
        dest="client_command", required=True, title="lệnh", metavar="LỆNH", help="add: cấp khóa mới"
    )
    s = command(clients, "add", cmd_api_client_add, "cấp khóa API cho một hệ thống (khóa chỉ in ra một lần)")
    s.add_argument("name", metavar="TÊN", help="tên hệ thống gọi, ví dụ mot-cua-tinh")
    s.add_argument("--agency", required=True, help="mã cơ quan mà hệ thống được truy cập")


def _admin(args: argparse.Namespace) -> Any:
    from scanner.app import Role

    return replace(_actor(args), role=Role.ADMIN)


def _password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != first:
            raise InputError("mật khẩu", "hai lần nhập không khớp", "passwords differ", code="usage")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_serve(args: argparse.Namespace) -> int:
    from scanner.web.serve import run

    return run(_config(args), host=args.host, port=args.port, with_service=not args.without_service)


def _catalog(args: argparse.Namespace) -> Any:
    from scanner.archive.catalog import open_catalog

    config = _config(args)
    return config, open_catalog(config.archive)


def cmd_user_add(args: argparse.Namespace) -> int:
    from scanner.app import Role, accounts

    config, catalog = _catalog(args)
    with catalog:
        password = _password("Mật khẩu")
        view = accounts.add_user(
            _admin(args),
            catalog,
            name=args.name,
            password=password,
            role=Role(args.role),
            display_name=args.display_name,
            counter=args.counter,
            agency=args.agency,
            counters=[c.name for c in config.counters],
        )
    print(f"Đã thêm người dùng {view.name} ({view.role_vi})")
    return EXIT_OK


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from scanner.app import accounts

    _, catalog = _catalog(args)
    with catalog:
        view = accounts.set_password(_admin(args), catalog, args.name, _password("Mật khẩu mới"))
    print(f"Đã đặt mật khẩu mới cho {view.name}; các phiên đăng nhập cũ đã kết thúc")
    return EXIT_OK


def cmd_user_disable(args: argparse.Namespace) -> int:
    from scanner.app import accounts

    _, catalog = _catalog(args)
    with catalog:
        view = accounts.disable_user(_admin(args), catalog, args.name)
    print(f"Đã vô hiệu hóa tài khoản {view.name}; mọi phiên đăng nhập đã kết thúc")
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    from scanner.app import accounts

    _, catalog = _catalog(args)
    with catalog:
        views = accounts.users(_admin(args), catalog)
    for v in views:
        where = v.counter or v.agency or ""
        state = "vô hiệu hóa" if v.disabled else (f"tạm khóa đến {v.locked_until}" if v.locked_until else "")
        print("\t".join((v.name, v.display_name, v.role_vi, where, state)))
    return EXIT_OK


def cmd_api_client_add(args: argparse.Namespace) -> int:
    from scanner.app import accounts

    _, catalog = _catalog(args)
    with catalog:
        made = accounts.add_api_client(_admin(args), catalog, args.name, args.agency)
    print(f"Khóa API của {made.name} (cơ quan {made.agency}); chỉ in ra lần này, hãy lưu lại ngay:", file=sys.stderr)
    print(made.token)
    return EXIT_OK
