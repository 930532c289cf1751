"""Every DuckDB connection of the project is opened here, with the same safe settings.

- ``TimeZone = 'UTC'``: DuckDB promotes DATE to TIMESTAMPTZ in the session time zone, so any other
  zone shifts day boundaries with the machine.
- no extension auto-install or auto-load: the nightly process runs only the code we pinned.
- readers always open ``read_only``: a mistyped path fails loudly instead of creating an empty file.
- no file outside the allowed folders: the database file's own folder and the folders a caller
  names (the landing folder for ingestion, the Parquet folder for publishing). SQL that reaches a
  connection, whatever it holds, cannot read ``/etc/passwd`` or a file beside the landing folder
  (``PermissionException``); the configuration is then locked, so it cannot turn that back on.
  A caller may also name single files (ingestion attaches the published warehouse read-only to
  reuse its raw rows): the file and its ``.wal``, never the folder around them.
- bounded memory: ``memory_limit`` is ``OWH_DUCKDB_MEMORY_LIMIT`` (a DuckDB size such as ``4GB``)
  or, by default, a twelfth of the machine's memory, instead of DuckDB's own 80 %; what does not
  fit spills to ``temp_directory`` (beside a database file, or the system's temporary folder for
  an in-memory connection).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

SAFE_SETTINGS: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

MEMORY_LIMIT_ENV = "OWH_DUCKDB_MEMORY_LIMIT"
# the share of the machine's memory that one connection may use when the environment says nothing
DEFAULT_MEMORY_SHARE = 1 / 12
_MEMORY_LIMIT = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file open for writing."""


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    allowed_directories: Sequence[str | Path] = (),
    allowed_files: Sequence[str | Path] = (),
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection (in memory when ``path`` is None) with the project's settings.

    Files outside ``allowed_directories``, ``allowed_files`` and the database file's folder are
    out of reach.
    """
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
    folders = [*allowed_directories, *([Path(path).parent] if path is not None else [])]
    # an in-memory connection has no folder of its own to spill to
    spill = Path(tempfile.gettempdir()) / "outcome-warehouse-duckdb" if path is None else None
    harden(con, folders, temp_directory=spill, files=allowed_files)
    return con


def memory_limit() -> str:
    """The memory one DuckDB connection may use: ``OWH_DUCKDB_MEMORY_LIMIT``, or a twelfth of the
    machine's physical memory."""
    configured = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if configured:
        if not _MEMORY_LIMIT.match(configured):
            raise ValueError(
                f"{MEMORY_LIMIT_ENV}={configured!r} is not a size: give a number and a unit, "
                "such as 4GB or 512MiB"
            )
        return configured
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(256, int(physical * DEFAULT_MEMORY_SHARE / 2**20))}MiB"


def harden(
    con: duckdb.DuckDBPyConnection,
    folders: Sequence[str | Path],
    *,
    temp_directory: str | Path | None = None,
    files: Sequence[str | Path] = (),
) -> None:
    """Set UTC for the connection and every cursor of it, bound its memory, allow files in
    ``folders`` and the single ``files`` only, and lock the configuration. dbt's connections get
    the same through ``pipelines.lib.dbt_plugin``. ``temp_directory`` is where DuckDB spills what
    does not fit in memory; DuckDB's own default (beside the database file) when None. A DuckDB
    file named in ``files`` brings its ``.wal`` along: DuckDB looks for it when it attaches the
    file."""
    # global, so that a cursor (a new session) inherits it: after the lock it could not set it
    con.execute("set global TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [memory_limit()])
    if temp_directory is not None:
        con.execute("set temp_directory = ?", [str(temp_directory)])
    # a trailing separator, so that allowing /data/landing does not allow /data/landing-old
    allowed = sorted({str(Path(folder).resolve()) + os.sep for folder in folders})
    con.execute("set allowed_directories = ?", [allowed])
    if files:
        paths = sorted({str(Path(f).resolve()) + suffix for f in files for suffix in ("", ".wal")})
        con.execute("set allowed_paths = ?", [paths])
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


@contextlib.contextmanager
def connection(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    allowed_directories: Sequence[str | Path] = (),
    allowed_files: Sequence[str | Path] = (),
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection closed on every exit path: an exception never keeps the file locked."""
    con = connect(
        path,
        read_only=read_only,
        allowed_directories=allowed_directories,
        allowed_files=allowed_files,
    )
    try:
        yield con
    finally:
        con.close()
