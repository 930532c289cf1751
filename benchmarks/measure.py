"""Run a command as a child and measure it: wall time and peak memory per stage of its output.

The peak is the resident memory of the child's whole process tree (``owh run`` and the dbt
subprocesses it starts), summed, sampled from ``/proc`` every ``SAMPLE_SECONDS``.
``getrusage`` cannot give this: it reports the largest single process, never the tree at one
moment, and never per stage. A stage is whatever the child's last progress line says it is doing
(``classify`` maps a line to a stage, or to None when the line changes nothing), so each sample
and each second is booked to the stage running at that moment.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.05
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 2**20


@dataclass
class StageFigures:
    """Seconds spent in a stage and the largest tree RSS sampled while it ran."""

    seconds: float = 0.0
    peak_mib: float = 0.0


@dataclass
class Measured:
    """What one measured command cost, per stage and as a whole, and what it printed."""

    return_code: int
    seconds: float
    peak_mib: float
    stages: dict[str, StageFigures] = field(default_factory=dict)
    # every line printed, with the seconds since the start at which it was read
    timed_lines: list[tuple[float, str]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.timed_lines]


def tree_rss_bytes(root: int) -> int:
    """Summed resident memory of ``root`` and all its descendants, read from /proc.

    The whole /proc is scanned for parent ids because this kernel has no ``children`` files;
    a process that ends mid-scan is skipped.
    """
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: fields follow the last ")"
        ppid = int(stat[stat.rindex(b")") + 2 :].split(maxsplit=2)[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _rss_bytes(pid)
        pending.extend(parents.get(pid, ()))
    return total


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


class StageClock:
    """Books elapsed time and memory samples to the current stage; thread-safe."""

    def __init__(self, first_stage: str):
        self._lock = threading.Lock()
        self.stage = first_stage
        self.since = time.perf_counter()
        self.figures: dict[str, StageFigures] = {first_stage: StageFigures()}
        self.peak_bytes = 0

    def switch(self, stage: str) -> None:
        with self._lock:
            now = time.perf_counter()
            self.figures.setdefault(self.stage, StageFigures()).seconds += now - self.since
            self.stage, self.since = stage, now
            self.figures.setdefault(stage, StageFigures())

    def sample(self, rss_bytes: int) -> None:
        with self._lock:
            self.peak_bytes = max(self.peak_bytes, rss_bytes)
            figures = self.figures[self.stage]
            figures.peak_mib = max(figures.peak_mib, rss_bytes / MIB)


def _sample_until_done(child: subprocess.Popen, clock: StageClock, done: threading.Event) -> None:
    while not done.is_set():
        clock.sample(tree_rss_bytes(child.pid))
        done.wait(SAMPLE_SECONDS)


def run_measured(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    classify: Callable[[str], str | None] = lambda line: None,
    first_stage: str = "start-up",
    echo: Callable[[str], None] | None = None,
) -> Measured:
    """Run ``command``, reading its merged output line by line as it comes.

    ``classify`` turns a line into the stage that starts with it (None: no change). ``echo``
    receives every line, to show progress while a long run goes on.
    """
    clock = StageClock(first_stage)
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    done = threading.Event()
    sampler = threading.Thread(target=_sample_until_done, args=(child, clock, done), daemon=True)
    sampler.start()
    lines = []
    assert child.stdout is not None
    for raw in child.stdout:
        line = raw.rstrip("\n")
        lines.append((time.perf_counter() - started, line))
        stage = classify(line)
        if stage is not None and stage != clock.stage:
            clock.switch(stage)
        if echo is not None:
            echo(line)
    return_code = child.wait()
    done.set()
    sampler.join()
    clock.switch(clock.stage)  # book the time since the last switch
    return Measured(
        return_code=return_code,
        seconds=time.perf_counter() - started,
        peak_mib=clock.peak_bytes / MIB,
        stages={name: figures for name, figures in clock.figures.items() if figures.seconds},
        timed_lines=lines,
    )
