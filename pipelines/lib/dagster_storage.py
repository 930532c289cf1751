"""Dagster's SQLite run history, without a disk flush per event.

A run of the nightly job records about 2,000 events: each asset and each check is planned, then
materialised or evaluated. Dagster's SQLite event log writes each in a transaction of its own, on
a connection opened for it, into a database in WAL mode at SQLite's default ``synchronous=FULL``:
every commit flushes the write-ahead log to disk, and closing the only connection checkpoints the
log into the database, another flush. On two cores that is 5 to 15 ms an event, 10 to 30 s a run,
about half of the demo's time outside dbt.

``OutcomeSqliteStorage`` is Dagster's own SQLite storage with one difference in its event log:
each connection runs at ``synchronous=NORMAL``, and the storage keeps an idle connection open on
the databases it recently wrote, so that closing a write's connection does not checkpoint.

In WAL mode ``synchronous=NORMAL`` keeps the database consistent through a crash of the process
or of the machine: SQLite's documentation guarantees no corruption, and says a power cut may lose
the transactions committed since the last checkpoint. Here that is the tail of a run's event log
(a crash during the run loses the run anyway; the warehouse is published by its own atomic
rename, not by the event log). SQLite still checkpoints, and flushes, every 1,000 pages and when
the last connection closes. Run records (``runs.db``) and schedules keep Dagster's settings.

dagster_home/dagster.yaml selects this storage (``storage: custom``) with the same ``base_dir``
Dagster's default would use, so an existing ``dagster_home`` keeps its history.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory

SYNCHRONOUS = "NORMAL"
# Idle connections kept: the index database and the shards of the last few runs. A long-lived
# process (the Dagster UI, the daemon) writes to a handful of runs at once at most.
KEPT_OPEN = 8


class EventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run-sharded SQLite event log at ``synchronous=NORMAL`` (see the module)."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._kept_open: OrderedDict[str, sqlite3.Connection] = OrderedDict()
        self._kept_open_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        with super()._connect(shard) as conn:
            # Python's sqlite3 begins the transaction only at the first write, so the pragma
            # still applies to this connection
            conn.exec_driver_sql(f"pragma synchronous={SYNCHRONOUS}")
            yield conn
        self._keep_open(shard)

    def _keep_open(self, shard: str) -> None:
        with self._kept_open_lock:
            if shard in self._kept_open:
                self._kept_open.move_to_end(shard)
                return
            connection = sqlite3.connect(self.path_for_shard(shard), check_same_thread=False)
            # a connection opens the file at its first statement; this one then holds no lock
            connection.execute("select count(*) from sqlite_master").fetchone()
            self._kept_open[shard] = connection
            while len(self._kept_open) > KEPT_OPEN:
                _, oldest = self._kept_open.popitem(last=False)
                oldest.close()

    def dispose(self) -> None:
        with self._kept_open_lock:
            while self._kept_open:
                _, connection = self._kept_open.popitem()
                connection.close()
        super().dispose()


class OutcomeSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (runs, event logs, schedules under ``base_dir``) with the
    event log above."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = EventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> OutcomeSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
