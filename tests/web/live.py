"""A real web workstation for the browser test and the live-thumbnail benchmark.

``scanner init`` + two accounts + ``scanner serve`` as its own process on a
free loopback port (the service loop inside it, as at a ward office), and
the headless Chromium Debian ships, driven by Playwright (never a browser
Playwright downloads).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PAGE_LINES, REPO, configure, render_lines

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLERK, CLERK_PASSWORD = "thu", "mat-khau-cua-thu"


@dataclass
class Workstation:
    config: Path
    url: str
    inbox: Path
    process: subprocess.Popen[bytes]


def _scanner(config: Path, *args: str, stdin: str = "") -> None:
    subprocess.run(
        [sys.executable, "-m", "scanner", "--config", str(config), *args],
        input=stdin.encode(),
        check=True,
        capture_output=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scan(path: Path, n: int, *, dpi: int = 150) -> Path:
    """A one-page scan whose text differs by N (the same content twice would be refused as a duplicate)."""
    lines = list(PAGE_LINES)
    lines[4] = f"ông Nguyễn Văn Thẩm, sinh ngày {n + 10} tháng 3 năm 1985, hồ sơ số {n + 1},"
    render_lines(lines, dpi=dpi).save(path, dpi=(dpi, dpi))
    return path


def drop(inbox: Path, path: Path) -> None:
    """Put a scan into the inbox the way a scanner does: written under a hidden name, then renamed."""
    hidden = inbox / f".{path.name}.part"
    hidden.write_bytes(path.read_bytes())
    hidden.rename(inbox / path.name)


@contextlib.contextmanager
def workstation(root: Path, log: Path) -> Iterator[Workstation]:
    subprocess.run([sys.executable, "-m", "scanner", "init", "--root", str(root)], check=True, capture_output=True)
    config = root / "scanner.toml"
    text = config.read_text(encoding="utf-8").replace("settle_seconds = 2 ", "settle_seconds = 0.5 ")
    config.write_text(text, encoding="utf-8")
    configure(config, "capture", dossier_idle_seconds=600)
    _scanner(config, "user", "add", CLERK, "--role", "clerk", "--counter", "quay-1",
             "--display-name", "Nguyễn Thị Thu", stdin=CLERK_PASSWORD + "\n")  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner", "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        start_new_session=True,  # the page workers end with the server
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/dang-nhap", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scanner serve did not start: {log.read_text(errors='replace')}") from None
                time.sleep(0.3)
        yield Workstation(config, url, root / "inbox" / "quay-1", process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
