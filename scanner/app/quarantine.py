"""A counter's quarantined files: see them, send one back to be processed again, or release it with a reason.

Nothing a citizen handed in is ever deleted here. *Retry* moves the file
back into its counter's inbox under its original name, where the service
takes it as a new scan (it is judged again: a file refused as a duplicate or
as damaged is refused again, with its reason). *Release* is the clerk's word
that the paper was dealt with otherwise (handed back, rescanned): the file
and its note move to ``<work>/quarantine-handled/<date>/`` with the reason
and the clerk's name appended to the note. Both are audited.

A file is named by ``<date>/<name>`` under ``<work>/quarantine`` (its
``item``); a clerk sees and handles only their own counter's files.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scanner.app import Actor
from scanner.app.counter import Station
from scanner.app.rights import sees_counter
from scanner.errors import InputError, NotFoundError
from scanner.jsonio import fsync_dir

NOTE = ".reason.txt"
_ITEM = re.compile(r"(\d{4}-\d{2}-\d{2})/([^/\x00]+)")
_PLAIN = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*")  # a name fit to go back into an inbox


@dataclass(frozen=True)
class HeldFile:
    item: str  # "<date>/<name>": what retry and release are given
    counter: str  # "" for a file quarantined before notes named their counter
    name: str  # the name it had in the inbox
    reason_code: str
    reason: str
    time: str
    size: int


@dataclass(frozen=True)
class Handled:
    item: str
    counter: str
    message: str  # what the clerk is told, in Vietnamese


def _note_fields(note: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in note.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(": ")
        if sep and key not in out:
            out[key] = value.strip()
    return out


def _held_file(root: Path, note: Path) -> HeldFile:
    f = _note_fields(note)
    kept = note.with_name(note.name.removesuffix(NOTE))
    name = f.get("Tệp", kept.name)
    reason = f.get("Lý do", "").removeprefix(f"{name}: ")  # the message names the file, which the list shows already
    return HeldFile(
        item=f"{note.parent.name}/{kept.name}",
        counter=f.get("Quầy", ""),
        name=name,
        reason_code=f.get("Mã lý do", ""),
        reason=reason,
        time=f.get("Thời điểm", ""),
        size=kept.stat().st_size if kept.exists() else 0,
    )


def held(actor: Actor, station: Station, *, counter: str | None = None, limit: int = 200) -> tuple[HeldFile, ...]:
    """Files now in quarantine, newest first: COUNTER's (or every counter the actor may see)."""
    root = station.config.job_area / "quarantine"
    if not root.is_dir():
        return ()
    out: list[HeldFile] = []
    for day in sorted((d for d in root.iterdir() if d.is_dir() and _ITEM.fullmatch(f"{d.name}/x")), reverse=True):
        notes = sorted(day.glob(f"*{NOTE}"), key=lambda p: p.stat().st_mtime, reverse=True)
        for note in notes:
            f = _held_file(root, note)
            if (
                (counter is None or f.counter == counter)
                and f.counter
                and sees_counter(actor, f.counter)
                or not f.counter
                and counter is None
                and not actor.counter
            ):
                out.append(f)
            if len(out) >= limit:
                return tuple(out)
    return tuple(out)


def _find(actor: Actor, station: Station, item: str) -> tuple[HeldFile, Path]:
    root = station.config.job_area / "quarantine"
    m = _ITEM.fullmatch(item)
    note = root / item if m else None
    if m is None or m[2] in (".", "..") or note is None:
        raise NotFoundError(f"không có tệp cách ly {item}", f"no quarantined file {item}")
    note = note.with_name(note.name + NOTE)
    if not note.is_file():
        raise NotFoundError(f"không có tệp cách ly {item}", f"no quarantined file {item}")
    f = _held_file(root, note)
    if not (sees_counter(actor, f.counter) if f.counter else not actor.counter):
        raise NotFoundError(f"không có tệp cách ly {item}", f"no quarantined file {item}")
    return f, note


def _free_name(folder: Path, name: str) -> Path:
    dest, n = folder / name, 1
    while dest.exists():
        n += 1
        stem, dot, ext = name.rpartition(".")
        dest = folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}")
    return dest


def _file_away(note: Path, kept: Path, handled: Path, line: str) -> None:
    """Move the file and its note (with LINE appended) under HANDLED; the note last, so a crash leaves it listed."""
    handled.mkdir(parents=True, exist_ok=True)
    if kept.exists():
        os.replace(kept, _free_name(handled, kept.name))
    text = note.read_text(encoding="utf-8", errors="replace") + line
    target = _free_name(handled, note.name)
    target.write_text(text, encoding="utf-8")
    note.unlink()
    fsync_dir(handled)


def retry(actor: Actor, station: Station, item: str) -> Handled:
    """Send a quarantined file back into its counter's inbox, to be taken and judged again."""
    f, note = _find(actor, station, item)
    if not f.counter:
        raise InputError(item, "không rõ tệp này từ quầy nào: hãy quét lại tại quầy", code="usage")
    kept = note.with_name(note.name.removesuffix(NOTE))
    if not kept.exists():
        raise NotFoundError(f"tệp {f.name} không còn trong khu cách ly", f"{f.name} is no longer in quarantine")
    inbox = station.config.counter(f.counter).inbox
    inbox.mkdir(parents=True, exist_ok=True)
    name = f.name if _PLAIN.fullmatch(f.name) else kept.name
    dest = _free_name(inbox, name)
    try:
        os.replace(kept, dest)  # one file system: the watcher sees the whole file at once
    except OSError:
        hidden = inbox / f".{dest.name}.tmp"  # a hidden name the watcher leaves alone until the rename
        shutil.copyfile(kept, hidden)
        with hidden.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(hidden, dest)
        kept.unlink()
    fsync_dir(inbox)
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    handled = station.config.job_area / "quarantine-handled" / note.parent.name
    _file_away(note, kept, handled, f"Đã gửi xử lý lại: {actor.label} — {when}\n")
    station.catalog.audit("quarantine-retry", f"{f.counter}/{f.name}", f"trả về {dest.name}", actor=actor.label)
    return Handled(item, f.counter, f"Đã gửi lại tệp {f.name} vào quầy {f.counter} để xử lý lại")


def release(actor: Actor, station: Station, item: str, reason: str) -> Handled:
    """Take a file out of the quarantine list for good, with the clerk's REASON (the file is kept, never deleted)."""
    reason = reason.strip()
    if not reason:
        raise InputError("lý do", "cần ghi lý do trả lại tệp", "a reason is required", code="usage")
    f, note = _find(actor, station, item)
    kept = note.with_name(note.name.removesuffix(NOTE))
    day = note.parent.name
    handled = station.config.job_area / "quarantine-handled" / day
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    _file_away(note, kept, handled, f"Đã trả lại: {reason} — {actor.label} — {when}\n")
    station.catalog.audit("quarantine-release", f"{f.counter}/{f.name}", reason, actor=actor.label)
    return Handled(item, f.counter, f"Đã trả lại tệp {f.name}: {reason}")
