"""The error classes: whose fault each failure is, and how a full disk is told from a bad file."""

from __future__ import annotations

import errno
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from scanner.errors import (
    EXIT_INPUT_FAILED,
    EXIT_WORKSTATION,
    FaultKind,
    InputError,
    InputReason,
    OcrError,
    ProgramMissing,
    ScannerError,
    WorkstationError,
    workstation_fault,
)


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_or_quota_is_the_workstations_fault(number: int) -> None:
    fault = workstation_fault(OSError(number, "No space left on device", "/srv/work/job-1/p1.png"))
    assert fault is not None and fault.kind is FaultKind.DISK_FULL
    assert fault.message_vi.startswith("ổ đĩa đầy") and "/srv/work/job-1/p1.png" in fault.message_vi
    assert fault.exit_code == EXIT_WORKSTATION and fault.code == "workstation"


def test_other_os_errors_are_not_put_down_to_the_workstation() -> None:
    assert workstation_fault(OSError(errno.EIO, "Input/output error")) is None
    assert workstation_fault(FileNotFoundError(errno.ENOENT, "gone", "a.jpg")) is None


def test_every_fault_kind_has_both_texts() -> None:
    for kind in FaultKind:
        assert kind.label_vi and kind.label_en and kind.label_vi != kind.label_en
    assert FaultKind("disk-full") is FaultKind.DISK_FULL


def test_workstation_errors_are_never_input_or_page_errors() -> None:
    missing = ProgramMissing("Tesseract", "tesseract-ocr")
    assert isinstance(missing, WorkstationError) and isinstance(missing, ScannerError)
    assert not isinstance(missing, InputError | OcrError)
    assert InputError("a.pdf", "hỏng").exit_code == EXIT_INPUT_FAILED
    assert (
        str(missing) == "thiếu chương trình Tesseract (cài gói tesseract-ocr) (Tesseract not found "
        "(install the tesseract-ocr package))"
    )


def test_input_reasons_are_an_enum_with_both_texts_and_plain_strings_still_match() -> None:
    for reason in InputReason:
        assert reason.label_vi and reason.label_en
    error = InputError("a.pdf", "PDF bị hỏng", code=InputReason.CORRUPT_PDF)
    assert error.code == "corrupt-pdf" and InputError("b.pdf", "x", code="corrupt-pdf").code == error.code
    assert InputError("c.jpg", "x").code is InputReason.INPUT


@pytest.mark.parametrize(
    "error",
    [
        ProgramMissing("Tesseract", "tesseract-ocr-vie"),
        InputError("hồ-sơ.pdf", "PDF bị hỏng", "corrupt PDF", code=InputReason.CORRUPT_PDF),
        OcrError("trang 1: Tesseract lỗi", "page 1: tesseract failed"),
        workstation_fault(OSError(errno.ENOSPC, "No space left on device", "/srv/work")),
    ],
)
def test_errors_survive_the_trip_back_from_a_page_worker(error: ScannerError) -> None:
    """A page worker's error is pickled to the parent; a failure there would break the whole pool."""
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.__dict__ == error.__dict__ and str(copy) == str(error)


def _raise_missing() -> None:
    raise ProgramMissing("Tesseract", "tesseract-ocr")


def test_a_missing_program_in_a_worker_reaches_the_parent_as_itself() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        error = pool.submit(_raise_missing).exception(timeout=60)
    assert isinstance(error, ProgramMissing) and error.package == "tesseract-ocr"
