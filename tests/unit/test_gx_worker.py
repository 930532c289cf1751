"""The Great Expectations worker (pipelines.lib.gx_worker): the same verdicts as GX in this
process, a fallback when it dies, its errors named, and no process left behind.

The checks that look at which modules a process imported run in a new interpreter.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest

from pipelines.lib import gx_suites, gx_worker
from pipelines.lib.quality import DUCKDB_UNEXPECTED, Expect, expect
from tests.processes import run_python, wait_until_ended

# with the demo run's tests: evens the two test workers' shares (tests/conftest.py)
pytestmark = pytest.mark.xdist_group("demo_run")

FRAME = pd.DataFrame(
    {
        "status": ["Done", None, "Open"],
        "score": [1, 7, 3],
        "_rows": [5, 2, 4],
        DUCKDB_UNEXPECTED: [False, True, False],
    }
)
EXPECTATIONS = [
    expect("ExpectColumnValuesToNotBeNull", column="status"),
    expect("ExpectColumnValuesToBeBetween", column="score", min_value=1, max_value=5),
    expect("ExpectColumnValuesToNotBeNull", column="no_such_column"),
]


@pytest.fixture(scope="module")
def worker() -> Iterator[gx_worker.GxWorker]:
    """A worker, as `owh run` starts one (this test process may have imported GX already, in
    which case ``running()`` would rightly start none)."""
    running = gx_worker.GxWorker()
    running.start()
    previous, gx_worker._worker = gx_worker._worker, running
    try:
        yield running
    finally:
        gx_worker._worker = previous
        running.stop()
    assert not running.alive


def test_the_worker_answers_as_gx_does_in_this_process(worker: gx_worker.GxWorker) -> None:
    """In the order of the expectations, though GX lists the one that raised first."""
    local = gx_suites.validate_frame("tasks", FRAME, EXPECTATIONS, complete=True)
    remote = gx_worker.validate_frame("tasks", FRAME, EXPECTATIONS, complete=True)
    basic = gx_worker.validate_frame("tasks", FRAME, EXPECTATIONS[:1], complete=False)
    assert worker.alive
    assert remote == local
    outcomes = [(r.outcome.expectation, r.outcome.success, r.flagged) for r in remote]
    assert outcomes == [
        ("expect_column_values_to_not_be_null(status)", False, (1,)),
        ("expect_column_values_to_be_between(score)", False, (1,)),
        ("expect_column_values_to_not_be_null(no_such_column)", False, ()),
    ]
    assert [r.outcome.unexpected_count for r in remote] == [1, 1, None]
    assert (
        remote[2].outcome.error == 'Error: The column "no_such_column" in BatchData does not exist.'
    )
    # without the positions asked for, none come back
    assert [(r.outcome.unexpected_count, r.flagged) for r in basic] == [(1, ())]


def test_an_exception_in_the_worker_is_raised_here_with_its_traceback(
    worker: gx_worker.GxWorker,
) -> None:
    with pytest.raises(gx_worker.GxWorkerError, match="ExpectNoSuchThing"):
        gx_worker.validate_frame("tasks", FRAME, [Expect("ExpectNoSuchThing")], complete=False)
    # the worker survives a failed call
    results = gx_worker.validate_frame("tasks", FRAME, EXPECTATIONS[:1], complete=False)
    assert worker.alive
    assert [r.outcome.unexpected_count for r in results] == [1]


def test_a_dead_worker_leaves_the_validation_to_this_process(caplog, monkeypatch) -> None:
    dead = gx_worker.GxWorker()
    dead.start()
    dead.process.kill()
    assert wait_until_ended(dead.process.pid)
    # as if it died while the call was on its way: not yet seen as ended
    monkeypatch.setattr(dead.process, "poll", lambda: None)
    monkeypatch.setattr(gx_worker, "_worker", dead)
    with caplog.at_level(logging.WARNING, logger=gx_worker.__name__):
        results = gx_worker.validate_frame("tasks", FRAME, EXPECTATIONS[:1], complete=True)
    dead.stop()
    assert [(r.outcome.unexpected_count, r.flagged) for r in results] == [(1, (1,))]
    assert "the Great Expectations worker ended (BrokenPipeError" in caplog.text


def test_a_process_that_imported_gx_validates_itself() -> None:
    assert "great_expectations" in sys.modules  # this module imported gx_suites
    before = gx_worker._worker
    with gx_worker.running() as worker:
        assert worker is None
        assert gx_worker._worker is before  # nothing started, nothing replaced


def test_suites_validated_by_the_worker_never_import_gx_here(tmp_path) -> None:
    """A run's process that validates through the worker does not import GX, nor does loading
    the definitions. (That the worker's verdicts are GX's in this process is checked frame by
    frame above.)"""
    result = run_python(
        f"""
        import json, sys, datetime as dt
        import pipelines.definitions
        from pipelines.lib import gx_worker
        from pipelines.lib.duckdb_connection import connection
        from pipelines.lib.quality import validate_raw_table
        from pipelines.lib.raw_schema import create_raw_schema

        after_definitions = "great_expectations" in sys.modules
        with connection({str(tmp_path / "warehouse.duckdb")!r}) as con:
            create_raw_schema(con)
            con.execute(
                "insert into raw.confidence_surveys (outcome_id, answered_on, dimension, score, "
                "_source_file, _source_row) values ('O-1', date '2026-10-05', 'readiness', 5, "
                "'s.csv', 1), ('O-1', date '2026-10-05', 'mood', 6, 's.csv', 2)"
            )
            with gx_worker.running():
                remote = validate_raw_table(con, "confidence_surveys", as_of=dt.date(2026, 10, 31))
            after_worker = "great_expectations" in sys.modules
        print(json.dumps({{
            "after_definitions": after_definitions,
            "after_worker": after_worker,
            "failed": sorted(
                (o.expectation, o.unexpected_count, o.element_count) for o in remote.failures
            ),
        }}))
        """
    )
    assert result == {
        "after_definitions": False,
        "after_worker": False,
        "failed": [
            ["expect_column_values_to_be_between(score)", 1, 2],
            # rows loaded without a load log: the file's rows are not accounted for
            ["expect_column_values_to_be_between(table_rows_minus_loaded)", 1, 1],
            ["expect_column_values_to_be_in_set(dimension)", 1, 2],
        ],
    }


def test_the_worker_ends_with_the_process_that_started_it() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pipelines.lib import gx_worker\n"
            "worker = gx_worker.GxWorker(); worker.start(); print(worker.process.pid, flush=True)\n"
            "time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    worker_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    if not wait_until_ended(worker_pid):
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the worker outlived the process that started it")


# A worker whose GX import is replaced by ``prepare`` (the module then imports nothing slow);
# run as the worker runs (``python -m pipelines.lib.gx_worker``), with the request on its input.
WORKER_WITH_SLOW_PREPARE = """
import sys, time, types
import pipelines.lib
from pipelines.lib import gx_worker

seconds = float(sys.argv[1])
suites = types.ModuleType("pipelines.lib.gx_suites")
suites.prepare = lambda: time.sleep(seconds)
suites.validate_frame = lambda batch, frame, expectations, complete: ["answered", batch]
sys.modules["pipelines.lib.gx_suites"] = pipelines.lib.gx_suites = suites
gx_worker.main()
"""


def worker_with_slow_prepare(seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_WITH_SLOW_PREPARE, str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_a_worker_whose_input_closes_while_it_imports_gx_ends_there() -> None:
    """Closed before any request, the worker ends without finishing its import: here one that
    would take ten minutes."""
    worker = worker_with_slow_prepare(600)
    try:
        worker.stdin.close()
        assert worker.wait(timeout=60) == 0
        assert worker.stdout.read() == b""
    finally:
        worker.kill()
        worker.wait()


def test_a_request_sent_while_the_worker_imports_gx_is_answered_after_it() -> None:
    """Its input closed right after the request, the worker still answers it, then ends."""
    worker = worker_with_slow_prepare(1)
    try:
        pickle.dump(("tasks", FRAME, EXPECTATIONS[:1], False), worker.stdin)
        worker.stdin.close()
        assert pickle.load(worker.stdout) == ("ok", ["answered", "tasks"])
        assert worker.wait(timeout=60) == 0
    finally:
        worker.kill()
        worker.wait()


def test_released_the_worker_ends_and_validation_runs_here(caplog, monkeypatch) -> None:
    running = gx_worker.GxWorker()
    running.start()
    monkeypatch.setattr(gx_worker, "_worker", running)
    pid = running.process.pid
    assert gx_worker.release() is True
    assert wait_until_ended(pid, seconds=15)
    assert gx_worker._worker is None
    with caplog.at_level(logging.WARNING, logger=gx_worker.__name__):
        results = gx_worker.validate_frame("tasks", FRAME, EXPECTATIONS[:1], complete=True)
    # the same answer, from this process, with no warning: a released worker is not a dead one
    assert [(r.outcome.unexpected_count, r.flagged) for r in results] == [(1, (1,))]
    assert caplog.text == ""
    # nothing left to release
    assert gx_worker.release() is False
