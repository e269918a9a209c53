"""The service: watches every counter's inbox and feeds settled files to the pipeline.

A file is taken only when it has settled: no filesystem event for the
counter's ``settle_seconds`` *and* the same size and modification time at two
looks in a row. Scanners write in chunks, and copies onto a share arrive half
at a time; taking a file early is how peers lose pages. Network shares (SMB,
NFS) deliver no inotify events, so a counter with ``poll_seconds`` uses a
polling observer, and every inbox is also listed again periodically in case an
event was missed. Files already in an inbox at start are taken too.

Where the kernel says so (inotify), a file still open for writing is not
settled either, however long its writer pauses between chunks; a writer silent
for a minute is taken as done, so a lost close event never strands a scan.

Temporary and hidden names (``.x``, ``~x``, ``*.tmp``, ``*.part``...) are left
alone: scanners that write a temporary name and rename it are taken after the
rename.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from scanner.archive import open_catalog
from scanner.config import DEFAULT_IGNORED, Config, CounterConfig
from scanner.errors import EXIT_OK
from scanner.pipeline import Pipeline, make_pool
from scanner.pipeline.lock import Busy, hold
from scanner.pipeline.states import RUNNABLE
from scanner.tools import check_programs

if TYPE_CHECKING:
    from procrastinate import App

log = logging.getLogger(__name__)

RESCAN_SECONDS = 30.0
# A file still open for writing is not settled, however quiet; a writer silent this long is taken as done
# (an event lost by the kernel must not leave a scan in the inbox for ever).
STILL_OPEN_SECONDS = 60.0
SERVICE = "scanner watch"
RETRY_WAITING_SECONDS = 30.0


def ignored(name: str, patterns: tuple[str, ...] = DEFAULT_IGNORED) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


@dataclass
class _Candidate:
    last_event: float
    last_look: tuple[int, int] | None = None
    writing: bool = False  # opened or written and not closed since (inotify tells; polling cannot)


@dataclass
class Settler:
    """Decides when a file in an inbox has finished arriving."""

    settle_seconds: float
    patterns: tuple[str, ...] = DEFAULT_IGNORED
    clock: object = time.monotonic
    tracks_open: bool = False  # events say when a writer closes the file (inotify); polling cannot tell
    candidates: dict[Path, _Candidate] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def touch(self, path: Path, event: str = "") -> None:
        """Note activity on PATH; EVENT is the watcher's event type ("" for a file found by listing the inbox)."""
        if ignored(path.name, self.patterns):
            return
        with self.lock:
            now = self.clock()  # type: ignore[operator]
            c = self.candidates.get(path)
            if c is None:
                c = self.candidates[path] = _Candidate(last_event=now)
            elif event != "closed":
                c.last_event = now
                c.last_look = None
            if event in ("created", "modified") and self.tracks_open:
                c.writing = True
            elif event == "" and self.tracks_open and open_for_writing(path):
                c.writing = True  # found by listing while a writer still has it open (it was there before we were)
            elif event == "closed":
                c.writing = False

    def forget(self, path: Path) -> None:
        with self.lock:
            self.candidates.pop(path, None)

    def ready(self) -> list[Path]:
        """Files quiet for settle_seconds whose size and mtime did not change since the last look."""
        out: list[Path] = []
        now = self.clock()  # type: ignore[operator]
        with self.lock:
            for path, c in list(self.candidates.items()):
                try:
                    st = path.lstat()
                except FileNotFoundError:
                    del self.candidates[path]
                    continue
                look = (st.st_size, st.st_mtime_ns)
                if now - c.last_event < self.settle_seconds:
                    c.last_look = None  # only looks after the quiet time count
                    continue
                if c.writing and now - c.last_event < max(STILL_OPEN_SECONDS, self.settle_seconds):
                    continue  # still open for writing: a scanner pausing between chunks is not done
                if c.last_look == look:
                    del self.candidates[path]
                    out.append(path)
                else:
                    c.last_look = look
        return sorted(out, key=lambda p: p.name)


def open_for_writing(path: Path) -> bool:
    """Whether some process on this machine has PATH open for writing (Linux ``/proc``; False elsewhere).

    Only asked for files found by listing the inbox, which came without
    events: at start-up a scanner may already be half way through one.
    """
    try:
        target = os.path.realpath(path)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            fd_dir = f"/proc/{pid}/fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"{fd_dir}/{fd}") != target:
                        continue
                    with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as info:
                        flags = next((int(ln.split()[1], 8) for ln in info if ln.startswith("flags:")), 0)
                except OSError:
                    continue
                if flags & (os.O_WRONLY | os.O_RDWR):
                    return True
    except OSError:
        return False
    return False


class _Handler(FileSystemEventHandler):
    def __init__(self, settler: Settler) -> None:
        self.settler = settler

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        dest = getattr(event, "dest_path", "")
        for p in (event.src_path, dest):
            if p:
                path = Path(p if isinstance(p, str) else p.decode())
                if event.event_type == "deleted" or (event.event_type == "moved" and p == event.src_path):
                    self.settler.forget(path)
                elif event.event_type in ("opened", "closed_no_write"):
                    continue  # a reader (an antivirus, a thumbnailer) changes nothing
                else:
                    self.settler.touch(path, event.event_type if p == event.src_path else "")


@dataclass
class Inbox:
    counter: CounterConfig
    settler: Settler
    observer: BaseObserver

    def scan(self) -> None:
        """List the inbox: files present at start, or whose events were missed."""
        for p in self.counter.inbox.iterdir():
            if (p.is_file() or p.is_symlink()) and p not in self.settler.candidates:
                self.settler.touch(p)


def open_inboxes(config: Config) -> list[Inbox]:
    inboxes = []
    for counter in config.counters:
        counter.inbox.mkdir(parents=True, exist_ok=True)
        settler = Settler(counter.settle_seconds, config.capture.ignore_patterns, tracks_open=counter.poll_seconds <= 0)
        observer: BaseObserver = (
            PollingObserver(timeout=counter.poll_seconds) if counter.poll_seconds > 0 else Observer()
        )
        observer.schedule(_Handler(settler), str(counter.inbox), recursive=False)
        inboxes.append(Inbox(counter, settler, observer))
    return inboxes


def serve(config: Config, *, stop: threading.Event | None = None, tick: float = 0.5) -> int:
    """Run until SIGINT/SIGTERM (or STOP is set); work in progress is finished or resumed next start."""
    stop = stop or threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("nhận tín hiệu %s: dừng sau công việc đang làm", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    with ExitStack() as held:
        try:
            held.enter_context(hold(config.archive.work, SERVICE))
        except Busy as busy:
            if busy.holder.startswith(SERVICE):
                raise  # a second service on one workstation: refused, saying who holds it
            log.info("đang chờ lệnh khác trên máy trạm xong việc (%s)", busy.holder)
            held.enter_context(hold(config.archive.work, SERVICE, wait=600))  # a clerk's command finishing a dossier
        return _serve(config, stop, tick)


def _serve(config: Config, stop: threading.Event, tick: float) -> int:
    inboxes = open_inboxes(config)
    with ExitStack() as held:
        catalog = held.enter_context(open_catalog(config.archive))
        if config.queue is None:  # the embedded default: this machine carries its own jobs
            line = None
            pipeline = Pipeline(config, catalog, held.enter_context(make_pool(config.processes)))
        else:  # a counter PC of the province: take files, put their dossiers in the shared queue
            from scanner.queue import make_app

            line = held.enter_context(make_app(config).open())
            pipeline = Pipeline(config, catalog, None)
        for exposed in config.signing.exposed_secrets():
            log.warning("tệp khóa/mật khẩu ký số %s đọc được bởi mọi người dùng: chạy chmod 600 %s", exposed, exposed)
        for problem in check_programs(languages_needed=config.tesseract_languages):
            # files are still taken and kept; their dossiers wait until the program is back
            log.error("sự cố máy trạm: %s", problem.message_vi)
            catalog.record_event("workstation", "*", problem.kind, problem.message_vi)
        for job_id in pipeline.recover():
            if stop.is_set() or line is not None:
                break  # queued: the first round puts them in line
            log.info("tiếp tục công việc %s sau khi khởi động lại", job_id)
            _report(pipeline.run(job_id))
        for inbox in inboxes:
            inbox.observer.start()
            inbox.scan()
        log.info("đang theo dõi %d quầy: %s", len(inboxes), ", ".join(str(i.counter.inbox) for i in inboxes))
        faults, chores = Faults(), Chores()
        last_scan = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    ran = _round(pipeline, inboxes, stop, chores, line)
                    if time.monotonic() - last_scan > RESCAN_SECONDS:
                        for inbox in inboxes:
                            inbox.scan()
                        last_scan = time.monotonic()
                    faults.clear()
                except Exception as exc:  # the service keeps running: the fault is told once, then retried slower
                    faults.report(exc)
                    ran = False
                    last_scan = 0.0  # list the inboxes again: a file whose take failed is taken later
                if not ran:
                    stop.wait(max(tick, faults.pause))
        finally:
            for inbox in inboxes:
                inbox.observer.stop()
            for inbox in inboxes:
                inbox.observer.join(timeout=5)
    log.info("đã dừng dịch vụ")
    return EXIT_OK


@dataclass
class Chores:
    """When the service last put parked jobs back in line and anchored the audit chain."""

    every: float = RETRY_WAITING_SECONDS
    last: float = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last <= self.every:
            return False
        self.last = now
        return True


@dataclass
class Faults:
    """A fault that repeats every round (an unwritable catalog, a full disk) is logged once, not 5,000 times.

    The first occurrence is logged with its traceback, repeats only as a count
    every minute; the pause between rounds doubles up to 30 s while the fault
    lasts, and drops back as soon as a round goes through.
    """

    last: str = ""
    repeats: int = 0
    told_at: float = 0.0
    pause: float = 0.0

    def report(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        now = time.monotonic()
        if text != self.last:
            log.error("lỗi khi xử lý; dịch vụ tiếp tục chạy và thử lại: %s", text, exc_info=exc)
            self.last, self.repeats, self.told_at = text, 0, now
        else:
            self.repeats += 1
            if now - self.told_at > 60:
                log.error("lỗi vẫn còn (lặp lại %d lần): %s", self.repeats, text)
                self.told_at = now
        self.pause = min(30.0, max(0.5, self.pause * 2))

    def clear(self) -> None:
        if self.last:
            log.info("đã hết lỗi: %s", self.last)
        self.last, self.repeats, self.pause = "", 0, 0.0


def _round(
    pipeline: Pipeline, inboxes: list[Inbox], stop: threading.Event, chores: Chores, line: App | None = None
) -> bool:
    """Take the settled files, close idle dossiers and run one pending dossier whose pages are ready; True if one ran.

    A dossier whose pages are still being recognized is passed over until
    they are, so a 200-page PDF closed at one counter never holds up the
    scans arriving at the others. With the shared queue (LINE) nothing runs
    here: every runnable dossier of this machine is put in line once.
    """
    for inbox in inboxes:
        for path in inbox.settler.ready():
            if stop.is_set():
                return False
            result = pipeline.take(path, inbox.counter)
            if result.job_id:
                log.info("đã nhận %s vào công việc %s", path.name, result.job_id)
            if line is not None and result.job_id and result.index is not None and result.job_id not in result.closed:
                from scanner.queue import read_input

                read_input(line, result.job_id, result.index, inbox.counter.name)  # recognized while still open
            if line is not None and result.closed:
                _dispatch(pipeline, line)  # a closed dossier is in line at once, not after the whole batch
    pipeline.close_idle()
    if chores.due():
        pipeline.retry_waiting()  # a program installed again, the disk freed: carry on without a restart
        pipeline.anchor_audit()  # the daily checkpoint of the audit chain, on a quiet day too
    if line is not None:
        _dispatch(pipeline, line)
        return False
    for job_id in pipeline.pending():
        if stop.is_set():
            break
        outcome = pipeline.run(job_id, wait=False)
        if not outcome.ready:
            continue  # its pages are still in the pool: the next dossier meanwhile, and the inboxes
        _report(outcome)
        return True  # look at the inboxes again between dossiers
    return False


def _dispatch(pipeline: Pipeline, line: App) -> None:
    from scanner.queue import dispatch

    for job_id in dispatch(line, pipeline.catalog.jobs(states=RUNNABLE)):
        log.info("công việc %s đã vào hàng đợi chung", job_id)


def _report(outcome: object) -> None:
    from scanner.pipeline import JobOutcome

    assert isinstance(outcome, JobOutcome)
    if outcome.state == "reviewing":
        log.info("hồ sơ %s chờ cán bộ kiểm tra trước khi ký số", outcome.dossier_code)
    elif outcome.state == "archived":
        log.info("hồ sơ %s đã lưu trữ: %d văn bản", outcome.dossier_code, len(outcome.documents))
    else:
        log.error("công việc %s không hoàn thành: %s", outcome.job_id, outcome.error or outcome.state)
    for w in outcome.warnings:
        log.warning("%s", w)
