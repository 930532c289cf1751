"""Write, audit, publish at the file level.

DuckDB cannot rename schemas, so a run builds a whole fresh file and swaps it in:

1. ``seal_build``: CHECKPOINT and close the build file (no ``.wal`` left beside it), export every
   mart to Parquet next to it, and probe the sealed file read-only: every table and view must answer
   ``select * ... limit 0`` (a view bound to a catalog that will not exist after the rename fails
   here, before anything is published).
2. ``swap_in``: ``os.replace`` each Parquet file, then the DuckDB file, then the reports. Each
   replace is atomic on POSIX: a reader holding the old file open keeps reading the old version; a
   new connection sees the new one. A run killed before this step leaves the serving files as they
   were.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.duckdb_connection import connection

MARTS_SCHEMA = "marts"


class PublishError(RuntimeError):
    """The build is not fit to publish; the serving files were left unchanged."""


@dataclass(frozen=True)
class SealedBuild:
    build_file: Path
    parquet_files: tuple[Path, ...]
    relation_count: int


@dataclass(frozen=True)
class PublishResult:
    serving_file: Path
    parquet_files: tuple[Path, ...]
    report_files: tuple[Path, ...]


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def mart_tables(con) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def seal_build(build_file: Path, parquet_dir: Path) -> SealedBuild:
    """Checkpoint the build file, export its marts to Parquet, and prove it reads back cleanly."""
    if not build_file.exists():
        raise PublishError(f"build file {build_file} does not exist")
    parquet_dir.mkdir(parents=True, exist_ok=True)
    exported: list[Path] = []
    with connection(build_file, allowed_directories=[parquet_dir]) as con:
        marts = mart_tables(con)
        if not marts:
            raise PublishError(f"build file {build_file} has no tables in schema '{MARTS_SCHEMA}'")
        for mart in marts:
            target = parquet_dir / f"{mart}.parquet"
            # Rows in a stable order so that the same inputs give byte-identical Parquet files.
            con.execute(
                f"copy (select * from {MARTS_SCHEMA}.{_quote_identifier(mart)} order by all) "
                f"to {_quote_literal(str(target))} (format parquet, compression zstd)"
            )
            exported.append(target)
        con.execute("checkpoint")
    wal = build_file.with_name(build_file.name + ".wal")
    if wal.exists():
        raise PublishError(f"a write-ahead log {wal} is left after checkpoint and close")
    relation_count = probe_readable(build_file)
    return SealedBuild(build_file, tuple(exported), relation_count)


def probe_readable(database_file: Path) -> int:
    """Open read-only and query every table and view; return how many answered."""
    with connection(database_file, read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        for schema, name in relations:
            try:
                con.execute(
                    f"select * from {_quote_identifier(schema)}.{_quote_identifier(name)} limit 0"
                ).fetchall()
            except Exception as exc:
                raise PublishError(
                    f"{database_file}: relation {schema}.{name} cannot be read: {exc}"
                ) from exc
    return len(relations)


def swap_in(
    sealed: SealedBuild, warehouse_dir: Path, *, report_files: tuple[Path, ...] = ()
) -> PublishResult:
    """Atomically replace the serving Parquet files, DuckDB file and reports with the build."""
    marts_dir = warehouse_dir / "marts"
    reports_dir = warehouse_dir / "reports"
    marts_dir.mkdir(parents=True, exist_ok=True)
    reports_dir.mkdir(parents=True, exist_ok=True)
    for path in (sealed.build_file, *sealed.parquet_files, *report_files):
        if path.stat().st_dev != warehouse_dir.stat().st_dev:
            raise PublishError(f"{path} is on another filesystem: the rename would not be atomic")

    published_parquet = []
    for parquet in sealed.parquet_files:
        target = marts_dir / parquet.name
        os.replace(parquet, target)
        published_parquet.append(target)
    current = {p.name for p in published_parquet}
    for stale in marts_dir.glob("*.parquet"):
        if stale.name not in current:
            stale.unlink()

    serving_file = warehouse_dir / sealed.build_file.name
    os.replace(sealed.build_file, serving_file)

    published_reports = []
    for report in report_files:
        target = reports_dir / report.name
        os.replace(report, target)
        published_reports.append(target)
    return PublishResult(serving_file, tuple(published_parquet), tuple(published_reports))


def remove_stale_builds(
    build_root: Path, *, keep: str | None, older_than_seconds: float
) -> list[Path]:
    """Remove build folders of runs that were killed or failed, once they are old enough.

    A fresh folder may belong to a run still in progress, so only folders untouched for
    ``older_than_seconds`` go.
    """
    removed = []
    if not build_root.exists():
        return removed
    now = time.time()
    for folder in build_root.iterdir():
        if folder.name == keep or not folder.is_dir():
            continue
        if now - folder.stat().st_mtime >= older_than_seconds:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
