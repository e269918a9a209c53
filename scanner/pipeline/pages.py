"""Cleaning and recognizing pages in the worker pool, as soon as they are taken.

A page is sent to the pool the moment its file is opened, while the dossier
is still open at the counter; its result is saved in the job folder when it
is ready (``ocr/<page>.json``), so the counter's status shows it and closing
the dossier finds the work already done. A result never arrives twice: a
page already saved or already in the pool is not sent again. Once a page is
read, its compact archival coding is made in the pool too (``code_ahead``),
so that closing the dossier does not wait for it either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from scanner import jsonio
from scanner.clean import CleanOptions, clean_page
from scanner.model import PageImage
from scanner.ocr import OcrOptions, ocr_page
from scanner.pdf import compact
from scanner.pipeline.job import JobFolder, PageResult

log = logging.getLogger(__name__)


def page_work(page: PageImage, clean_dir: Path, clean: CleanOptions, ocr: OcrOptions) -> PageResult:
    """Clean and recognize one page: the unit of work sent to the process pool."""
    cleaned = clean_page(page, clean_dir, clean)
    result = ocr_page(
        cleaned.ocr_image, width=cleaned.image.width, height=cleaned.image.height, dpi=cleaned.image.dpi, options=ocr
    )
    return PageResult(cleaned=cleaned, ocr=result)


@dataclass
class PageQueue:
    """Pages in the pool, by the path their result will be saved at."""

    pool: Callable[[], Executor | None]
    code_ahead: bool = False  # some agency keeps compact page images: code each page once it is read
    inflight: dict[Path, Future[PageResult]] = field(default_factory=dict)
    coding: dict[Path, Future[None]] = field(default_factory=dict)  # by the coded file's path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, folder: JobFolder, page: PageImage, clean: CleanOptions, ocr: OcrOptions
    ) -> Future[PageResult] | None:
        """Send PAGE to the pool now, unless its result is saved or on its way; never waits."""
        pool = self.pool()
        target = folder.result_at(page)
        if pool is None or target.exists():
            return None
        with self.lock:
            future = self.inflight.get(target)
            if future is not None:
                return future
            future = pool.submit(page_work, page, folder.clean, clean, ocr)
            self.inflight[target] = future
        future.add_done_callback(lambda f: self._done(target, f))
        return future

    def _done(self, target: Path, future: Future[PageResult]) -> None:
        try:
            if not target.parent.parent.exists():
                return  # the job was filed or given up meanwhile
            target.parent.mkdir(parents=True, exist_ok=True)
            error = future.exception()
            if error is None:
                jsonio.save(target, future.result())
                target.with_suffix(".error.txt").unlink(missing_ok=True)
                if self.code_ahead:
                    self._code(future.result().cleaned.image)
            else:  # shown on the counter's screen beside the page; the run tries the page again
                text = getattr(error, "message_vi", "") or str(error) or type(error).__name__
                jsonio.write_atomic(target.with_suffix(".error.txt"), text.encode("utf-8"))
        except Exception:  # the job's run does the page again and reports what went wrong
            log.debug("không lưu được kết quả trang %s", target, exc_info=True)
        finally:
            with self.lock:
                if self.inflight.get(target) is future:
                    del self.inflight[target]

    def _code(self, image: PageImage) -> None:
        """Send IMAGE's compact coding to the pool; a failure only means the build codes it itself."""
        pool = self.pool()
        if pool is None:
            return
        try:
            future = pool.submit(compact.code_ahead, image)
        except RuntimeError:  # the pool is shutting down
            return
        with self.lock:
            self.coding[compact.coded_at(image)] = future
        future.add_done_callback(lambda f: self._coded(compact.coded_at(image), f))

    def _coded(self, at: Path, future: Future[None]) -> None:
        if future.exception() is not None:
            log.debug("mã hóa gọn trang %s chưa xong trước khi tạo PDF", at, exc_info=future.exception())
        with self.lock:
            if self.coding.get(at) is future:
                del self.coding[at]

    def await_coding(self, images: list[PageImage], timeout: float = 60.0) -> None:
        """Let the codings of IMAGES still in the pool finish (a second or so) rather than code them twice."""
        with self.lock:
            pending = [f for f in (self.coding.get(compact.coded_at(i)) for i in images) if f is not None]
        for future in pending:
            try:
                future.result(timeout=timeout)
            except Exception:  # the build codes that page itself and reports what is wrong with it
                log.debug("mã hóa trước không dùng được", exc_info=True)

    def result(
        self,
        folder: JobFolder,
        page: PageImage,
        clean: CleanOptions,
        ocr: OcrOptions,
        sent: Future[PageResult] | None = None,
    ) -> PageResult:
        """The page's result: saved, awaited from the pool (SENT, if the caller sent it), or computed here.

        Raises what the work raised, a dead worker included.
        """
        saved = folder.load_result(page)
        if saved is not None:
            return saved
        target = folder.result_at(page)
        future = sent or self.start(folder, page, clean, ocr)
        if future is not None:
            return future.result()  # saved by the pool's callback
        result = page_work(page, folder.clean, clean, ocr)
        target.parent.mkdir(parents=True, exist_ok=True)
        jsonio.save(target, result)
        return result

    def forget(self) -> None:
        """Drop every page in flight (the pool died; the runs send them again)."""
        with self.lock:
            self.inflight.clear()
