"""When is a file in an inbox ready to be taken?"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.capture.watch import Settler, ignored


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_file_is_taken_only_after_quiet_time_and_two_equal_looks(tmp_path: Path) -> None:
    clock = Clock()
    s = Settler(2.0, clock=clock)
    f = tmp_path / "scan.jpg"
    f.write_bytes(b"x" * 10)
    s.touch(f)
    assert s.ready() == []  # too recent
    clock.t = 2.5
    assert s.ready() == []  # first look after the quiet time: nothing to compare with yet
    with f.open("ab") as h:  # a slow writer adds a chunk without any event reaching us
        h.write(b"y" * 10)
    clock.t = 3.0
    assert s.ready() == []  # size changed between looks
    clock.t = 3.5
    assert s.ready() == [f]
    assert s.ready() == []  # taken once


def test_new_event_restarts_the_wait(tmp_path: Path) -> None:
    clock = Clock()
    s = Settler(2.0, clock=clock)
    f = tmp_path / "a.png"
    f.write_bytes(b"1")
    s.touch(f)
    clock.t = 2.1
    s.ready()
    s.touch(f)  # another chunk arrived
    clock.t = 2.5
    assert s.ready() == []
    clock.t = 4.2
    s.ready()
    clock.t = 4.3
    assert s.ready() == [f]


def test_vanished_file_is_forgotten(tmp_path: Path) -> None:
    s = Settler(0.0)
    f = tmp_path / "gone.jpg"
    f.write_bytes(b"1")
    s.touch(f)
    f.unlink()
    assert s.ready() == [] and s.candidates == {}


@pytest.mark.parametrize("name", [".hidden.jpg", "~lock.png", "scan.jpg.tmp", "scan.part", "x.crdownload", "Thumbs.db"])
def test_temporary_and_hidden_names_are_ignored(name: str) -> None:
    assert ignored(name)


@pytest.mark.parametrize("name", ["scan.jpg", "Giấy khai sinh.tif", "hồ sơ.pdf"])
def test_ordinary_names_are_watched(name: str) -> None:
    assert not ignored(name)
