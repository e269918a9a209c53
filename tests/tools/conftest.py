"""Fake external programs: small shell scripts put alone on PATH.

Each test sees a PATH holding only its fake programs, so a missing program
is simulated without uninstalling anything, and a misbehaving one (a crash,
a hang, a complaint on stderr) is written in a line of shell.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FakeProgram = Callable[[str, str], Path]


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH: every program is missing until a fake is added."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


@pytest.fixture
def fake_program(fake_bin: Path) -> FakeProgram:
    """Add a program NAME to the fake PATH that runs the shell BODY."""

    def make(name: str, body: str) -> Path:
        path = fake_bin / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    return make
