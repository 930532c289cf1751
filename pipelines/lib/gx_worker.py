"""Where the raw-table suites meet Great Expectations: a worker process, or this process.

Importing GX takes about 2 s of one core (it imports scipy, altair and SQLAlchemy), and a run
needs it only for its nine suites. `owh run` therefore starts a worker process before it loads
Dagster (``running()``): the worker imports GX on the second core while the run's process imports
Dagster and dbt's Dagster integration on the first, then validates the frames the suites send
it, one at a time. Whenever no worker runs (a run launched by the schedule or the UI, a test,
`owh ingest`), or the worker has died, the frames are validated in the calling process, which
then imports GX itself: the same function on the same frame, so the same result either way.

The worker speaks over its standard input and output: each request is a pickled call of
``pipelines.lib.gx_suites.validate_frame``, each answer the pickled result or the exception's
traceback. Both ends are this project's own processes, on private pipes. The worker writes
anything it prints to its standard error, ignores Ctrl-C (the run's process decides), and ends
when its standard input closes: when ``stop()`` closes it or when the run's process ends, however
it ends, and at once if that happens while it is still importing GX.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import termios
import threading
import traceback
from collections.abc import Iterator, Sequence
from typing import IO

import pandas as pd

from pipelines.lib.quality import Expect, FrameResult

log = logging.getLogger(__name__)

# how long stop() lets the worker end after its input closes, before killing it
STOP_SECONDS = 10.0
# how often the worker, while it imports GX, looks whether it should go on (``_ending_on_eof``)
WATCH_MILLISECONDS = 100


class GxWorkerError(RuntimeError):
    """An exception raised in the worker, with the worker's traceback as its message."""


class GxWorker:
    """One worker process, and the calls it answers one at a time."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.lib.gx_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def validate_frame(
        self, batch: str, frame: pd.DataFrame, expectations: Sequence[Expect], *, complete: bool
    ) -> list[FrameResult]:
        """The worker's answer; raises ``BrokenPipeError`` or ``EOFError`` when it has died, and
        ``GxWorkerError`` when the validation raised there."""
        assert self.process is not None and self.process.stdin and self.process.stdout
        with self._lock:
            pickle.dump(
                (batch, frame, list(expectations), complete),
                self.process.stdin,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            self.process.stdin.flush()
            status, value = pickle.load(self.process.stdout)
        if status == "error":
            raise GxWorkerError(value)
        return value

    def stop(self) -> None:
        """Close the worker's input, so that it ends; kill it if it does not within
        ``STOP_SECONDS``."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(OSError):
            process.stdout.close()


_worker: GxWorker | None = None


@contextlib.contextmanager
def running() -> Iterator[GxWorker | None]:
    """A worker for the suites validated while the block runs (module docstring); none, and
    validation in this process, when this process has imported GX already (a test session): the
    worker would only import it a second time."""
    global _worker
    if "great_expectations" in sys.modules:
        yield None
        return
    worker = GxWorker()
    worker.start()
    previous, _worker = _worker, worker
    try:
        yield worker
    finally:
        _worker = previous
        worker.stop()


def release() -> bool:
    """End this process's worker now, when the suites it served are done (the nightly's first
    dbt build calls this): its memory, GX and pandas imported, is given back before dbt builds.
    A validation after this runs in this process, as without a worker. Returns whether a worker
    was running."""
    global _worker
    worker, _worker = _worker, None
    if worker is None:
        return False
    worker.stop()
    return True


def validate_frame(
    batch: str, frame: pd.DataFrame, expectations: Sequence[Expect], *, complete: bool
) -> list[FrameResult]:
    """GX's verdict on ``frame`` for each of ``expectations`` (``gx_suites.validate_frame``):
    from the worker when one runs, else, or when it has died, from this process."""
    worker = _worker
    if worker is not None and worker.alive:
        try:
            return worker.validate_frame(batch, frame, expectations, complete=complete)
        except (BrokenPipeError, EOFError, pickle.UnpicklingError) as exc:
            log.warning(
                "the Great Expectations worker ended (%s: %s); validating in this process",
                type(exc).__name__,
                exc,
            )
    from pipelines.lib import gx_suites

    return gx_suites.validate_frame(batch, frame, expectations, complete=complete)


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The worker's loop: import GX, then answer each request until ``requests`` ends. Should
    ``requests`` end while GX is being imported, the process ends there (``_ending_on_eof``)."""
    with _ending_on_eof(requests.fileno()):
        from pipelines.lib import gx_suites

        gx_suites.prepare()
    while True:
        try:
            batch, frame, expectations, complete = pickle.load(requests)
        except EOFError:
            return
        try:
            answer = (
                "ok",
                gx_suites.validate_frame(batch, frame, expectations, complete=complete),
            )
        except Exception:
            answer = ("error", traceback.format_exc())
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


@contextlib.contextmanager
def _ending_on_eof(fd: int) -> Iterator[None]:
    """End this process at once if ``fd`` reaches its end while the block runs; leave ``fd``
    unread otherwise.

    Importing GX takes seconds of a core, and the run's process may be done with the worker
    before that (a run that fails while it loads its definitions, a worker released early):
    ``stop()`` closes the worker's input and waits for it to end, which it would otherwise do
    only once the import it no longer needs had finished. A thread watches the input meanwhile:
    readable with no byte waiting is the end of it (every writer closed the pipe), and the
    process ends without finishing the import; a request that arrives instead is left for the
    loop that answers it, after the import. Nothing was asked of the worker yet, so nothing is
    lost."""
    imported = threading.Event()

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        waiting = array.array("i", [0])
        while not imported.is_set():
            if not poller.poll(WATCH_MILLISECONDS):
                continue
            fcntl.ioctl(fd, termios.FIONREAD, waiting)
            if waiting[0] == 0:
                os._exit(0)
            return

    watcher = threading.Thread(target=watch, name="gx-worker-input", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        imported.set()
        watcher.join()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the answers get the real standard output; whatever GX or a library prints goes to stderr
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
