"""Helpers for the tests that start processes: a fresh interpreter that reports in JSON, and
whether a process still runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def run_python(source: str, *args: str, timeout: float = 180) -> dict:
    """Run ``source`` (dedented) in a new interpreter with ``args``; its last line of output, as
    JSON. Fails the test, with the interpreter's standard error, when it does not exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def running(pid: int | str) -> bool:
    """Whether the process runs (an ended one may wait as a zombie for its parent)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_until_ended(pid: int | str, seconds: float = 60) -> bool:
    """Whether the process has ended within ``seconds``."""
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
