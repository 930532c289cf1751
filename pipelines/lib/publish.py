"""Write, audit, publish at the file level.

DuckDB cannot rename schemas, so a run builds a whole fresh file and swaps it in:

1. ``seal_build``: CHECKPOINT and close the build file (no ``.wal`` left beside it), export every
   mart to Parquet next to it, and probe the sealed file read-only: every table and view must answer
   ``select * ... limit 0`` (a view bound to a catalog that will not exist after the rename fails
   here, before anything is published).
2. ``swap_in``, three atomic steps, each a single ``rename`` (POSIX):

   - the Parquet marts: the build's folder becomes ``releases/<build id>/marts`` and the symlink
     ``marts`` is replaced by one pointing at it. A BI tool reading ``marts/*.parquet`` sees the
     whole old set or the whole new set, never a mix of the two;
   - the DuckDB file replaces ``warehouse.duckdb``. A reader holding the old file open keeps
     reading the old version; a new connection sees the new one;
   - each report replaces its namesake (a report is one self-contained file).

   A run killed before step 2 leaves every serving file as it was; a run killed between two of
   the renames leaves each artifact whole (the next run brings them level). The previous release
   stays for readers that resolved the old symlink a moment before the swap; older ones go.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.duckdb_connection import connection
from pipelines.lib.layout import WarehouseLayout
from pipelines.lib.sql import quote_identifier, quote_literal

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
                f"copy (select * from {MARTS_SCHEMA}.{quote_identifier(mart)} order by all) "
                f"to {quote_literal(str(target))} (format parquet, compression zstd)"
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
                    f"select * from {quote_identifier(schema)}.{quote_identifier(name)} limit 0"
                ).fetchall()
            except Exception as exc:
                raise PublishError(
                    f"{database_file}: relation {schema}.{name} cannot be read: {exc}"
                ) from exc
    return len(relations)


BEFORE_RELEASES = "before-releases"


def swap_in(
    sealed: SealedBuild, layout: WarehouseLayout, *, report_files: tuple[Path, ...] = ()
) -> PublishResult:
    """Atomically switch the serving marts, DuckDB file and reports to the sealed build."""
    if sealed.build_file.name != layout.serving_file.name:
        raise PublishError(
            f"{sealed.build_file} is not named {layout.serving_file.name}: its catalog would "
            "change name in the rename"
        )
    layout.reports_dir.mkdir(parents=True, exist_ok=True)
    layout.releases_dir.mkdir(parents=True, exist_ok=True)
    for path in (sealed.build_file, *sealed.parquet_files, *report_files):
        if path.stat().st_dev != layout.root.stat().st_dev:
            raise PublishError(f"{path} is on another filesystem: the rename would not be atomic")
    parquet_dirs = {p.parent for p in sealed.parquet_files}
    if len(parquet_dirs) != 1:
        raise PublishError(f"the sealed marts are not in one folder: {sorted(parquet_dirs)}")

    # a name of its own per publish, so that no attempt ever writes into a served release
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    release = f"{stamp}-{sealed.build_file.parent.name}"
    layout.release_dir(release).mkdir()
    os.replace(parquet_dirs.pop(), layout.release_marts_dir(release))
    previous = _point_marts_link_at(layout, release)

    os.replace(sealed.build_file, layout.serving_file)

    published_reports = []
    for report in report_files:
        target = layout.reports_dir / report.name
        os.replace(report, target)
        published_reports.append(target)
    _remove_old_releases(layout.releases_dir, keep={layout.release_dir(release), previous})
    published_parquet = tuple(layout.marts_dir / p.name for p in sealed.parquet_files)
    return PublishResult(layout.serving_file, published_parquet, tuple(published_reports))


def _point_marts_link_at(layout: WarehouseLayout, release: str) -> Path | None:
    """Replace the ``marts`` symlink in one rename (a relative link: the folder may move);
    return the release it pointed at before, if any."""
    link = layout.marts_dir
    previous = link.resolve().parent if link.is_symlink() else None
    if link.is_dir() and not link.is_symlink():
        # a warehouse published before releases existed: its folder becomes a release once
        previous = layout.release_dir(BEFORE_RELEASES)
        shutil.rmtree(previous, ignore_errors=True)
        previous.mkdir(parents=True)
        os.replace(link, layout.release_marts_dir(BEFORE_RELEASES))
    for leftover in link.parent.glob(f".{link.name}.*"):  # of a publish killed here
        leftover.unlink()
    staged = link.with_name(f".{link.name}.{release}")
    staged.symlink_to(layout.release_marts_dir(release).relative_to(link.parent))
    os.replace(staged, link)
    return previous


def _remove_old_releases(releases: Path, *, keep: set[Path | None]) -> None:
    """Keep the release now served and the one served before it, for a reader that resolved the
    link a moment before the switch; remove the rest (older ones, and releases of killed runs
    that never were served)."""
    kept = {p.resolve() for p in keep if p is not None}
    for release in releases.iterdir():
        if release.resolve() not in kept:
            shutil.rmtree(release, ignore_errors=True)


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
