"""Writing the pipeline's dataclasses to JSON and back, durably.

A job's progress is a folder of these files: each stage's result is written
to a temporary name, flushed to disk and renamed, so after a crash a file is
either complete or absent, and a restarted job skips the stages whose result
is already there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return _decode(options[0], value)
    if origin in (list, tuple):
        args = typing.get_args(kind)
        item = args[0] if args else Any
        items = [_decode(item, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, vt = typing.get_args(kind)
        return {k: _decode(vt, v) for k, v in value.items()}
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(  # type: ignore[operator]
            **{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(kind) if f.name in value}
        )
    if kind is Path:
        return Path(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is float and isinstance(value, int):
        return float(value)
    return value


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), ensure_ascii=False, indent=1)


def loads(kind: Any, text: str) -> Any:
    return _decode(kind, json.loads(text))


def write_atomic(path: Path, data: bytes) -> None:
    """Write DATA to PATH so that a crash leaves either the old file or the new one, never a part.

    The temporary name is the writer's own (process and thread), so two
    writers of the same file — the service and a clerk's command, or a pool
    callback and the run — never pull each other's temporary file away.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(path: Path, value: Any) -> None:
    write_atomic(path, dumps(value).encode("utf-8"))


def load(path: Path, kind: Any) -> Any:
    """The value saved at PATH, or None when the stage has not finished yet."""
    try:
        return loads(kind, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
