"""A hostile file costs its own job, never the service: each ends in quarantine with its own reason, quickly.

Every file goes through :func:`open_isolated`, as the watcher's intake
does; the test process's own peak memory must not move, because the
decoding happened in the child.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import stat
import time
from pathlib import Path

import pytest

from scanner.capture import judge
from scanner.capture.judge import open_isolated, peek_receipt_isolated
from scanner.capture.load import LoadLimits, load_pages
from scanner.errors import InputError, ProgramCrashed, WorkstationError
from scanner.model import SourceFile
from scanner.tools import poppler, runner
from tests.capture import hostile
from tests.capture.test_barcodes import CODE, receipt_page

BUDGET_SECONDS = 8.0  # per hostile case, child start-up included, on a shared two-core machine


def _src(path: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(path=path, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hostile.build_all(tmp_path_factory.mktemp("hostile"))


HOSTILE = [name for name, (_file, _build, code) in hostile.CASES.items() if code]


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_file_ends_with_its_own_reason_within_budget_and_our_memory_stays_put(
    corpus: dict[str, Path], case: str, tmp_path: Path
) -> None:
    path = corpus[case]
    before = _peak_rss_mb()
    started = time.monotonic()
    with pytest.raises(InputError) as info:
        open_isolated(_src(path), tmp_path / "pages", LoadLimits(), memory_mb=1024, seconds=30)
    took = time.monotonic() - started
    assert info.value.code == hostile.CASES[case][2], info.value.message_vi
    assert path.name in info.value.message_vi
    assert took < BUDGET_SECONDS
    assert _peak_rss_mb() - before < 32


@pytest.mark.parametrize("case", ["normal-jpeg", "normal-pdf"])
def test_a_normal_scan_opens_as_it_would_in_process(corpus: dict[str, Path], case: str, tmp_path: Path) -> None:
    src = _src(corpus[case])
    opened = open_isolated(src, tmp_path / "pages", LoadLimits(), memory_mb=1024, seconds=30)
    direct = load_pages(src, tmp_path / "direct")
    assert [(p.width, p.height, p.dpi, p.source) for p in opened.pages] == [
        (p.width, p.height, p.dpi, p.source) for p in direct
    ]
    assert opened.pages[0].path.read_bytes() == direct[0].path.read_bytes()
    assert opened.codes == ((),) and opened.signed is False


def test_a_receipt_opened_in_the_child_brings_its_qr_text_back(tmp_path: Path) -> None:
    path = tmp_path / "biên nhận.png"
    receipt_page(f'{{"maHoSo": "{CODE}"}}').save(path, dpi=(200, 200))
    opened = open_isolated(_src(path), tmp_path / "pages", LoadLimits(), memory_mb=1024, seconds=30)
    assert any(CODE in text for text in opened.codes[0])
    receipt = peek_receipt_isolated(path, LoadLimits())
    assert receipt is not None and receipt.dossier_code == CODE


def test_a_peek_at_a_hostile_file_finds_no_receipt_and_does_not_fail(corpus: dict[str, Path]) -> None:
    for case in ("double-flate", "huge-png", "form-self"):
        assert peek_receipt_isolated(corpus[case], LoadLimits(), seconds=10) is None


def test_a_file_past_the_memory_cap_is_decode_limit(corpus: dict[str, Path], tmp_path: Path) -> None:
    """With the pixel limit raised, the 400-megapixel PNG is decoded for real, and the child's cap stops it."""
    with pytest.raises(InputError) as info:
        open_isolated(
            _src(corpus["png-bomb"]), tmp_path / "pages", LoadLimits(max_megapixels=1000), memory_mb=400, seconds=30
        )
    assert info.value.code == "decode-limit"
    assert "quá 400 MB" in info.value.message_vi


def test_a_file_past_the_time_limit_is_decode_timeout(tmp_path: Path) -> None:
    """A 196-megapixel PNG is under the pixel limit, but decoding and re-encoding it takes more than a second."""
    path = hostile.png_bomb(tmp_path / "chậm.png", side=14000)
    with pytest.raises(InputError) as info:
        open_isolated(_src(path), tmp_path / "pages", LoadLimits(), memory_mb=1024, seconds=1)
    assert info.value.code == "decode-timeout"
    assert "quá thời gian cho phép (1 giây)" in info.value.message_vi


def test_a_child_that_cannot_run_is_the_workstations_fault(
    corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _src(corpus["normal-jpeg"])
    monkeypatch.setattr(
        judge, "PYTHON", runner.Program(command="/nonexistent/python3", package="python3", label="Python")
    )
    with pytest.raises(WorkstationError):
        open_isolated(src, tmp_path / "a", LoadLimits())
    # an interpreter that exits without answering (here: one that only ever fails) is not the file's fault either
    monkeypatch.setattr(judge, "PYTHON", runner.Program(command="false", package="coreutils", label="Python"))
    with pytest.raises(WorkstationError):
        open_isolated(src, tmp_path / "b", LoadLimits())
    with pytest.raises(WorkstationError):
        peek_receipt_isolated(src.path, LoadLimits())


def _fake_pdftoppm(folder: Path, *, complaint: str) -> None:
    """A pdftoppm that exits 0 after writing a 1×1 PNG, as poppler does when an allocation is refused."""
    script = folder / "pdftoppm"
    script.write_text(
        "#!/bin/sh\n"
        f'[ -n "{complaint}" ] && echo "{complaint}" >&2\n'
        "for last; do :; done\n"
        "printf '\\211PNG\\r\\n\\032\\n\\000\\000\\000\\rIHDR' > \"$last.png\"\n"
        "printf '\\000\\000\\000\\001\\000\\000\\000\\001' >> \"$last.png\"\n"
        "exit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(("complaint", "error"), [("Bogus memory allocation size", InputError), ("", ProgramCrashed)])
def test_an_implausible_render_is_a_failure_never_a_blank_page(
    corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, complaint: str, error: type
) -> None:
    _fake_pdftoppm(tmp_path, complaint=complaint)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(error) as info:
        poppler.render_page(corpus["normal-pdf"], 1, 300, tmp_path / "p.png", page_size=(595.3, 841.9))
    assert "#1" in str(info.value)
    if error is InputError:
        assert info.value.code == "corrupt-pdf"


def test_a_memory_cap_too_low_to_open_anything_is_a_setting_fault_not_the_files(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(WorkstationError) as info:
        open_isolated(_src(corpus["normal-jpeg"]), tmp_path / "pages", LoadLimits(), memory_mb=64)
    assert "quá thấp" in info.value.message_vi


@pytest.mark.slow
def test_the_red_teams_full_size_bomb_is_refused_as_fast_as_a_small_one(tmp_path: Path) -> None:
    """3 GB of zeros behind two Flate layers (the red team's file reached 3.2 GB RSS); building it takes a while."""
    path = hostile.double_flate_bomb(tmp_path / "bom-3gb.pdf", inflated_mb=3072)
    assert path.stat().st_size < 64 * 1024
    before = _peak_rss_mb()
    started = time.monotonic()
    with pytest.raises(InputError) as info:
        open_isolated(_src(path), tmp_path / "pages", LoadLimits(), memory_mb=1024, seconds=30)
    assert info.value.code == "decode-limit"
    assert time.monotonic() - started < BUDGET_SECONDS
    assert _peak_rss_mb() - before < 32


def test_the_real_pdftoppm_on_a_200_inch_page_is_corrupt_pdf_not_a_blank_page(
    corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pdftoppm refuses the 60000×60000 raster ("Bogus memory allocation size"), writes a 90-byte PNG, exits 0.

    Run past load's MediaBox check on purpose, through a wrapper that caps
    pdftoppm at 1 GB, as the judge's child would.
    """
    real = shutil.which("pdftoppm")
    assert real is not None
    wrapper = tmp_path / "bin" / "pdftoppm"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec prlimit --as={1024**3} {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(InputError) as info:
        poppler.render_page(corpus["huge-mediabox"], 1, 300, tmp_path / "p.png", page_size=(14400, 14400))
    assert info.value.code == "corrupt-pdf" and "1×1" in info.value.message_vi


def _fake_child(folder: Path, body: str) -> runner.Program:
    script = folder / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return runner.Program(command=str(script), package="python3", label="Python")


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("echo 'terminate called after throwing std::bad_alloc' >&2; kill -ABRT $$", "decode-limit"),
        ("kill -XCPU $$", "decode-timeout"),
        ("kill -SEGV $$", ProgramCrashed),
        (
            'echo \'{"pages": [{"path": "/etc/passwd", "width": 1, "height": 1, '
            '"dpi": 200, "source": "x"}], "codes": [[]], "signed": false}\'',
            ProgramCrashed,
        ),
    ],
)
def test_a_child_that_dies_is_judged_by_how_it_died(
    corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, outcome: object
) -> None:
    """An allocation failure is the file's, so is running out of CPU; any other crash names no culprit; and
    an answer pointing outside the job's page folder is not believed."""
    monkeypatch.setattr(judge, "PYTHON", _fake_child(tmp_path, body))
    src = _src(corpus["normal-jpeg"])
    if isinstance(outcome, str):
        with pytest.raises(InputError) as info:
            open_isolated(src, tmp_path / "pages", LoadLimits())
        assert info.value.code == outcome
    else:
        with pytest.raises(ProgramCrashed):
            open_isolated(src, tmp_path / "pages", LoadLimits())
