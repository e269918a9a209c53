"""``scanner serve``: the web app under uvicorn, and on the embedded defaults the service loop beside it.

A ward office has one PC: one command must both show the pages and carry
the dossiers. So when the catalog is the embedded SQLite file, the service
loop (``scanner.capture.watch.serve``) runs in a thread of the same process.
It takes the workstation's job lock like any service: when another
``scanner watch`` already holds it, the loop is not started and the pages
work with that service; when a clerk's command holds it for a moment, the
loop waits its turn. Stopping the server (SIGINT/SIGTERM) stops the loop
after the work in hand, as ``scanner watch`` does.
"""

from __future__ import annotations

import logging
import threading

from scanner.config import Config
from scanner.pipeline.lock import Busy, holder, is_held

log = logging.getLogger("scanner.web")


def embedded(config: Config) -> bool:
    return config.archive.catalog_url.startswith("sqlite:")


class ServiceThread:
    """The service loop in a thread, stopped with the server."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scanner-service", daemon=False)
        self.failed: BaseException | None = None

    def _run(self) -> None:
        from scanner.capture.watch import serve

        try:
            serve(self.config, stop=self.stop)
        except Busy as busy:
            log.warning("không chạy dịch vụ trong scanner serve: %s", busy.message_vi)
            self.failed = busy
        except BaseException as exc:  # the pages stay up; the fault is told where the operator looks
            log.exception("dịch vụ số hóa dừng vì lỗi")
            self.failed = exc

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 120.0) -> None:
        self.stop.set()
        self.thread.join(timeout)


def run(config: Config, *, host: str, port: int, with_service: bool = True) -> int:
    import uvicorn

    from scanner.capture.watch import SERVICE
    from scanner.web import create_app

    service: ServiceThread | None = None
    if with_service and embedded(config):
        work = config.archive.work
        if is_held(work) and holder(work).startswith(SERVICE):
            log.info("dịch vụ đang chạy ở tiến trình khác (%s): chỉ phục vụ trang web", holder(work))
        else:
            service = ServiceThread(config)
            service.start()
    log.info("máy trạm web: http://%s:%d (dừng bằng Ctrl+C)", host, port)
    try:
        # open event streams (a station page left open) would hold a graceful shutdown forever: 5 s, then closed
        uvicorn.run(
            create_app(config), host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
    finally:
        if service is not None:
            service.close()
    return 0
