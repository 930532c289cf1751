"""Every DuckDB connection of the project is opened here, with the same safe settings.

- ``TimeZone = 'UTC'``: DuckDB promotes DATE to TIMESTAMPTZ in the session time zone, so any other
  zone shifts day boundaries with the machine.
- no extension auto-install or auto-load: the nightly process runs only the code we pinned.
- readers always open ``read_only``: a mistyped path fails loudly instead of creating an empty file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

SAFE_SETTINGS: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file open for writing."""


def connect(
    path: str | Path | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection (in memory when ``path`` is None) with the project's settings."""
    database = ":memory:" if path is None else str(path)
    if path is not None and read_only and not Path(path).exists():
        raise FileNotFoundError(f"warehouse file not found: {path}")
    try:
        con = duckdb.connect(database, read_only=read_only, config=dict(SAFE_SETTINGS))
    except duckdb.IOException as exc:
        match = _LOCK_HOLDER.search(str(exc))
        if match:
            raise WarehouseLockedError(
                f"warehouse {path} is locked by PID {match['pid']} ({match['exe']}); "
                "close that program or wait for its run to finish"
            ) from exc
        raise
    con.execute("set TimeZone = 'UTC'")
    return con


@contextlib.contextmanager
def connection(
    path: str | Path | None = None, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection closed on every exit path: an exception never keeps the file locked."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
