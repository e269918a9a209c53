"""Shared fixtures: small generated pages and a temporary workstation.

Pages are drawn in code with a Times-metric font that has the Vietnamese
glyphs, so a reader sees exactly what each test feeds the pipeline.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "samples"))

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

PAGE_LINES = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "GIẤY XÁC NHẬN",
    "Ủy ban nhân dân phường Bến Nghé xác nhận",
    "ông Nguyễn Văn Thẩm, sinh ngày 12 tháng 3 năm 1985,",
    "thường trú tại số 12 đường Lê Lợi, phường Bến Nghé.",
    "Giấy khai sinh số 123/2024 được cấp ngày 05 tháng 02 năm 2024.",
)


def render_lines(lines: Sequence[str] = PAGE_LINES, *, dpi: int = 200, size_pt: float = 14) -> Image.Image:
    """An A4 page at DPI with LINES in a 14 pt serif, one per line."""
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    font = ImageFont.truetype(FONT, round(size_pt * dpi / 72))
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    y = dpi  # one inch margin
    for line in lines:
        draw.text((dpi, y), line, font=font, fill="black")
        y += round(size_pt * 1.8 * dpi / 72)
    return img


def skewed(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor="white")


def configure(config: Path, section: str, **values: object) -> None:
    """Set keys of one table of a workstation's TOML file, whether the template wrote the table or not."""
    import json

    def literal(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return repr(v) if isinstance(v, int | float) else json.dumps(v, ensure_ascii=False)

    lines = config.read_text(encoding="utf-8").splitlines()
    header = f"[{section}]"
    if header not in lines:
        lines += ["", header]
    at = lines.index(header)
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    kept = [ln for ln in lines[at + 1 : end] if ln.split("=", 1)[0].strip() not in values]
    lines[at + 1 : end] = [f"{k} = {literal(v)}" for k, v in values.items()] + kept
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def page_png(tmp_path: Path) -> Path:
    path = tmp_path / "trang.png"
    render_lines().save(path, dpi=(200, 200))
    return path


@pytest.fixture(scope="session")
def _workstation_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scanner.cli import main

    root = tmp_path_factory.mktemp("template") / "ws"
    assert main(["init", "--root", str(root)]) == 0
    return root


@pytest.fixture
def workstation(tmp_path: Path, _workstation_template: Path) -> Path:
    """A fresh workstation as `scanner init` makes it (review ``never``), its config path returned.

    Made once per session and copied: its paths are relative to the config
    file, and generating the signing keys is the slow part of `init`.
    """
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(_workstation_template, root, symlinks=True)
    config = root / "scanner.toml"
    # The counter's default is to wait for the clerk when a field is flagged; the tests of the engine
    # file at once, and the tests of the clerk's review set their own mode.
    configure(config, "review", mode="never")
    return config


# --- the catalog on each engine ------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL server for the session (``tests/postgres.py``): missing PostgreSQL fails the run, never skips it."""
    from tests import postgres

    if os.environ.get(postgres.ENV) == "skip":
        pytest.skip(f"{postgres.ENV}=skip: the PostgreSQL half of the catalog tests was not run")
    try:
        server = postgres.start()
    except postgres.Unavailable as exc:
        pytest.fail(
            f"PostgreSQL is needed by the catalog tests and could not be started: {exc}. "
            f"Install it (bash scripts/setup.sh --dev), or set {postgres.ENV}=postgresql://… to use a running "
            f"server, or {postgres.ENV}=skip to leave those tests out on this machine.",
            pytrace=False,
        )
    yield server
    server.stop()


@dataclass(frozen=True)
class CatalogPlace:
    """Where a test's catalog lives: a SQLite file, or a fresh PostgreSQL database.

    ``where`` is what the service opens (on PostgreSQL: the service's role,
    a member of ``scanner_app``); ``owner`` the role that owns the tables.
    """

    engine: str
    where: Any  # Path | sqlalchemy.URL
    index: Path
    owner: Any = None

    def open(self, **options: Any) -> Any:
        from scanner.archive import Catalog

        return Catalog(self.where, index_path=self.index, **options)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_place(request: pytest.FixtureRequest, tmp_path: Path) -> CatalogPlace:
    """The test's catalog on each engine in turn."""
    if request.param == "sqlite":
        return CatalogPlace("sqlite", tmp_path / "c.sqlite", tmp_path / "c.index")
    server = request.getfixturevalue("postgres_server")
    owner, service = server.fresh_database()
    return CatalogPlace("postgresql", service, tmp_path / "c.index", owner)


def wait_until(predicate: Callable[[], object], timeout: float = 120.0) -> None:
    """Poll PREDICATE every 0.2 s until it holds; fail the test after TIMEOUT seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def assert_numbered_per_day(codes: Sequence[str]) -> None:
    """Dossier codes (…-YYMMDD-NNNN) unique and, day by day, numbered 1, 2, 3 … without gaps.

    Numbers start again each day, and a long test may cross midnight.
    """
    assert len(codes) == len(set(codes))
    by_day: dict[str, list[int]] = {}
    for code in codes:
        _, day, number = code.rsplit("-", 2)
        by_day.setdefault(day, []).append(int(number))
    for day, numbers in by_day.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), day
