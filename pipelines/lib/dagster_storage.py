"""Dagster's SQLite run history, without a disk flush or a new database engine per event.

A run of the nightly job records about 2,000 events: each asset and each check is planned, then
materialised or evaluated. Dagster's SQLite event log writes each in a transaction of its own, on
a database engine created for it and disposed after it, into a database in WAL mode at SQLite's
default ``synchronous=FULL``. So every event

- opens a new SQLite connection, and closing the database's only connection checkpoints the
  write-ahead log into the database, a disk flush;
- commits at ``synchronous=FULL``, another flush;
- compiles its INSERT again: SQLAlchemy caches compiled statements per engine, and the engine
  lives for one event.

On the 12,000-task demo the process spent about 11 s of a 39 s run storing events, on the same two
cores dbt builds on, in the process that also reads dbt's events.

``OutcomeSqliteStorage`` is Dagster's own SQLite storage with one difference in its event log:
it keeps one engine per database for the ``KEPT_OPEN`` databases it wrote most recently, whose
pooled connection stays open (no checkpoint at each close) and runs at ``synchronous=NORMAL``,
and whose compiled statements are reused.

In WAL mode ``synchronous=NORMAL`` keeps the database consistent through a crash of the process
or of the machine: SQLite's documentation guarantees no corruption, and says a power cut may lose
the transactions committed since the last checkpoint. Here that is the tail of a run's event log
(a crash during the run loses the run anyway; the warehouse is published by its own atomic
rename, not by the event log). SQLite still checkpoints, and flushes, every 1,000 pages and when
the last connection closes. Run records (``runs.db``) and schedules keep Dagster's settings.

Every use of a connection still holds the storage's lock, as in Dagster's, so one pooled
connection per database is used by one thread at a time.

dagster_home/dagster.yaml selects this storage (``storage: custom``) with the same ``base_dir``
Dagster's default would use, so an existing ``dagster_home`` keeps its history.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

SYNCHRONOUS = "NORMAL"
# Engines (each with its open connection) kept: the index database and the shards of the last
# few runs. A long-lived process (the Dagster UI, the daemon) writes to a handful of runs at once
# at most.
KEPT_OPEN = 8


class EventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run-sharded SQLite event log on kept engines at ``synchronous=NORMAL``
    (see the module)."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._index_tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        # as Dagster's own _connect, on the shard's kept engine instead of a new one
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        """The shard's kept engine, created on first use; the least recently used one beyond
        ``KEPT_OPEN`` is disposed, closing its connection. Called under ``_db_lock``."""
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            # one connection stays open; Dagster's first-use set-up of a database (_initdb) opens
            # a second one beside it for a moment
            pool_size=1,
            max_overflow=2,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _set_synchronous)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_OPEN:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    def has_table(self, table_name: str) -> bool:
        # Dagster asks before every check result and many reads, each time on a new engine. A
        # table of the index, once there, stays (a wipe empties tables, it does not drop them).
        # Some callers ask while they hold an index connection, so no lock is taken here.
        if table_name in self._index_tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._index_tables.add(table_name)
        return found

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()

    def wipe(self) -> None:
        # the wipe unlinks the run shards: no connection may stay open on a deleted file
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _set_synchronous(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 begins a transaction only at the first write, so the pragma applies
    cursor = dbapi_connection.cursor()
    cursor.execute(f"pragma synchronous={SYNCHRONOUS}")
    cursor.close()


class OutcomeSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (runs, event logs, schedules under ``base_dir``) with the
    event log above."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = EventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> OutcomeSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
