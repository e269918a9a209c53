"""``scanner serve`` runs the service loop beside the pages only when no other service holds the workstation."""

from __future__ import annotations

from scanner.capture.watch import SERVICE
from scanner.config import Config
from scanner.pipeline.lock import Busy, hold
from scanner.web.serve import ServiceThread, embedded


def test_the_loop_stays_out_when_another_service_holds_the_workstation(web_config: Config) -> None:
    assert embedded(web_config)
    with hold(web_config.archive.work, SERVICE):  # a `scanner watch` already running
        service = ServiceThread(web_config)
        service.start()
        service.thread.join(timeout=60)
    assert not service.thread.is_alive()
    assert isinstance(service.failed, Busy)


def test_the_loop_runs_and_stops_with_the_server(web_config: Config) -> None:
    from scanner.pipeline.lock import holder, is_held

    service = ServiceThread(web_config)
    service.start()
    try:
        for _ in range(200):
            if is_held(web_config.archive.work) and holder(web_config.archive.work).startswith(SERVICE):
                break
            service.thread.join(timeout=0.1)
        assert holder(web_config.archive.work).startswith(SERVICE)
    finally:
        service.close(timeout=60)
    assert not service.thread.is_alive() and service.failed is None
    assert not is_held(web_config.archive.work)
