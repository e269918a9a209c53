"""The runner: a program's absence, a hang, a failure and its environment, each with the project's own error."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import (
    EXIT_WORKSTATION,
    FaultKind,
    InputError,
    ProgramFailed,
    ProgramMissing,
    ProgramTimeout,
    WorkstationError,
)
from scanner.tools import runner
from tests.tools.conftest import FakeProgram

ECHO = runner.Program(command="echo-tool", package="echo-tool-pkg", label="EchoTool", minimum=(2, 0))


def test_a_missing_program_is_the_workstations_fault_and_names_its_package(fake_bin: Path) -> None:
    with pytest.raises(ProgramMissing) as info:
        runner.run(ECHO, ["x"], timeout=5)
    error = info.value
    assert isinstance(error, WorkstationError) and not isinstance(error, InputError)
    assert error.kind is FaultKind.PROGRAM_MISSING and error.package == "echo-tool-pkg"
    assert error.message_vi == "thiếu chương trình EchoTool (cài gói echo-tool-pkg)"
    assert error.exit_code == EXIT_WORKSTATION


def test_a_hang_ends_at_the_time_limit_as_an_ambiguous_error(fake_program: FakeProgram) -> None:
    fake_program("echo-tool", "exec /bin/sleep 5")
    with pytest.raises(ProgramTimeout) as info:
        runner.run(ECHO, [], timeout=0.3)
    assert not isinstance(info.value, WorkstationError)  # a page that always hangs must reach quarantine
    assert "EchoTool" in info.value.message_vi and "giây" in info.value.message_vi


def test_the_status_is_the_callers_to_judge_unless_checked(fake_program: FakeProgram) -> None:
    fake_program("echo-tool", "echo 'first line' >&2; echo 'the reason' >&2; exit 4")
    done = runner.run(ECHO, [], timeout=5)
    assert done.returncode == 4 and done.tail() == "first line | the reason"
    with pytest.raises(ProgramFailed) as info:
        runner.run(ECHO, [], timeout=5, check=True)
    assert info.value.kind is FaultKind.PROGRAM_FAILED
    assert "mã 4" in info.value.message_vi and "the reason" in info.value.message_vi


def test_the_child_gets_no_secret_from_our_environment(
    fake_program: FakeProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service holds the PKCS#12 password in its environment; a child never needs it."""
    fake_program("echo-tool", "/usr/bin/env")
    monkeypatch.setenv("SCANNER_P12_PASSWORD", "mật-khẩu")
    monkeypatch.setenv("LANG", "C.UTF-8")
    out = runner.run(ECHO, [], timeout=5, env={"OMP_THREAD_LIMIT": "1"}).stdout.decode()
    assert "mật-khẩu" not in out and "SCANNER_P12_PASSWORD" not in out
    assert "OMP_THREAD_LIMIT=1" in out and "LANG=C.UTF-8" in out


def test_the_stderr_tail_is_short_and_printable() -> None:
    tail = runner.stderr_tail(b"ok\n" + b"x\x1b[31m" * 200 + b"\nlast\n")
    assert len(tail) <= runner.TAIL_CHARS and tail.endswith("last") and "\x1b" not in tail


def test_versions_are_read_and_compared_with_the_minimum(fake_program: FakeProgram) -> None:
    fake_program("echo-tool", "echo 'echo-tool version 1.9.2'")
    found = runner.version(ECHO)
    assert found == "1.9.2" and runner.too_old(ECHO, found)
    assert not runner.too_old(ECHO, "2.0") and runner.version_tuple("5.3.0-rc1") == (5, 3, 0)
    error = runner.outdated_error(ECHO, found)
    assert error.kind is FaultKind.PROGRAM_OUTDATED and "echo-tool-pkg" in error.message_vi


def test_a_program_that_cannot_start_is_broken_not_missing(fake_bin: Path) -> None:
    (fake_bin / "echo-tool").write_text("not a program", encoding="utf-8")
    (fake_bin / "echo-tool").chmod(0o755)
    with pytest.raises(ProgramFailed, match="EchoTool"):
        runner.run(ECHO, [], timeout=5)
