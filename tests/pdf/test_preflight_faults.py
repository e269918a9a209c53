"""PDFBox Preflight not installed, or half installed: the workstation's fault, naming the package to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import ProgramFailed, ProgramMissing
from scanner.pdf.preflight import JARS, preflight, preflight_available


def fake_java(folder: Path, body: str) -> None:
    java = folder / "java"
    java.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    java.chmod(0o755)


@pytest.fixture
def jar_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "jars"
    folder.mkdir()
    for name in JARS:
        (folder / name).write_bytes(b"")
    return folder


def test_java_missing(tmp_path: Path, jar_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not preflight_available(jar_dir)
    with pytest.raises(ProgramMissing) as info:
        preflight(tmp_path / "a.pdf", jar_dir=jar_dir)
    assert info.value.package == "default-jre-headless"


def test_a_missing_jar_names_its_package(tmp_path: Path, jar_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_java(tmp_path, "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path))
    (jar_dir / "jaxb-api.jar").unlink()
    assert not preflight_available(jar_dir)
    with pytest.raises(ProgramMissing) as info:
        preflight(tmp_path / "a.pdf", jar_dir=jar_dir)
    assert info.value.package == "libjaxb-api-java" and "jaxb-api.jar" in info.value.message_vi


def test_a_broken_classpath_is_the_workstations(tmp_path: Path, jar_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_java(tmp_path, "echo 'Error: Could not find or load main class org.apache.pdfbox.preflight.X' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProgramFailed, match="libpdfbox2-java"):
        preflight(tmp_path / "a.pdf", jar_dir=jar_dir)
