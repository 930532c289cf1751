"""Pull folders and cursors: a pull is written whole or not at all, and never rewritten.

A pull of source ``jira`` writes ``<landing>/jira/.<pull id>.partial/`` page by page, then its
``manifest.json``, then renames the folder to ``<landing>/jira/<pull id>/``. Ingestion skips hidden
entries, so it never reads a pull that is still running, failed or was killed; the next pull of the
source removes such leftovers. The pull id is the UTC pull time (``20261205T101500Z``), so pull
folders sort in time order.

A lock in the system's temporary folder keeps two pulls of one source folder apart. The cursor of
a source and scope (a site and its query) is the high-water mark of the ``updated``
times of the issues pulled; it lives in ``<warehouse>/extract/`` and is written (atomically) only
after the pull folder was renamed into place. A pull that fails leaves the landing folder and the
cursor as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.extract.policy import ExtractError
from pipelines.lib.landing import MANIFEST_NAME, PullManifest
from pipelines.lib.layout import WarehouseLayout
from pipelines.sources.pages import parse_timestamp

PARTIAL_SUFFIX = ".partial"
PULL_ID_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class PullResult:
    """What ``owh extract`` reports."""

    source: str
    folder: Path | None  # None when the pull found nothing new (no folder is written)
    issues: int
    pages: int
    full: bool
    since: str | None
    cursor: str | None


@dataclass(frozen=True)
class Fetched:
    """What a source's fetch wrote into its pull folder."""

    issues: int
    cursor: dt.datetime | None  # highest ``updated`` time seen, aware
    details: dict[str, Any] = field(default_factory=dict)


# fetch(since, folder) -> Fetched: writes every page of issues updated at or after ``since``
# (every issue when None) into ``folder``.
Fetch = Callable[["dt.datetime | None", "PullFolder"], Fetched]


def run_pull(
    landing_dir: Path,
    warehouse_dir: Path,
    *,
    source: str,
    scope: str,
    full: bool,
    overlap: dt.timedelta,
    fetch: Fetch,
    now: dt.datetime | None = None,
) -> PullResult:
    """One pull of one source and scope: incremental from the stored cursor (less ``overlap``)
    unless ``full`` or there is no cursor yet; published whole, then the cursor moves on.

    An incremental pull that finds no issue updated after the cursor (only the overlap's, again)
    writes no folder. A full pull always writes one, even empty: it is what tells ingestion that
    earlier issues are gone.
    """
    now = now or dt.datetime.now(dt.UTC)
    cursors = CursorStore(warehouse_dir)
    previous = None if full else cursors.read(source, scope)
    since = previous - overlap if previous is not None else None
    pull_id = new_pull_id(now)
    with pull_folder(landing_dir, source, pull_id) as folder:
        fetched = fetch(since, folder)
        is_full = since is None
        # Never past the pull's start: an issue updated while the pull ran may have been read
        # before its update, so the next pull asks again from here (less the overlap).
        seen = min(fetched.cursor, now) if fetched.cursor is not None else None
        cursor = max(filter(None, (seen, previous)), default=None)
        if not is_full and (fetched.cursor is None or fetched.cursor <= previous):
            # only issues of the overlap came back, unchanged since the last pull
            return PullResult(source, None, 0, 0, False, since.isoformat(), None)
        manifest = PullManifest(
            source=source,
            scope=scope,
            pull_id=pull_id,
            pulled_at=now.astimezone(dt.UTC).isoformat(),
            full=is_full,
            since=since.isoformat() if since else None,
            issues=fetched.issues,
            pages=folder.pages,
            cursor=cursor.isoformat() if cursor else None,
            details=fetched.details,
        )
        final = folder.publish(manifest)
    if cursor is not None:
        cursors.write(source, scope, cursor, pull_id)
    return PullResult(
        source, final, fetched.issues, manifest.pages, is_full, manifest.since, manifest.cursor
    )


def updated_time(value: object) -> dt.datetime | None:
    """An issue's update time from the API (ISO 8601 with an offset) as an aware UTC datetime,
    the form cursors are compared and stored in; None when missing or unreadable."""
    parsed = parse_timestamp(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed is not None else None


def new_pull_id(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime(PULL_ID_FORMAT)


def scope_key(*parts: str) -> str:
    """A stable name for a scope (site, query): the cursor file's name."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


class PullFolder:
    """The folder one pull writes into: pages first, the manifest last, then one rename."""

    def __init__(self, landing_dir: Path, source: str, pull_id: str):
        self.source_dir = Path(landing_dir) / source
        self.pull_id = pull_id
        self.partial = self.source_dir / f".{pull_id}{PARTIAL_SUFFIX}"
        self.final = self.source_dir / pull_id
        self.pages = 0

    def write_page(self, payload: Any) -> Path:
        """Store one API response, as the API sent it, as the next ``page-NNNN.json``."""
        self.pages += 1
        path = self.partial / f"page-{self.pages:04d}.json"
        _write_json(path, payload)
        return path

    def publish(self, manifest: PullManifest) -> Path:
        """Write the manifest and rename the folder into place; ingestion sees it from now on."""
        if self.final.exists():
            raise ExtractError(f"pull folder {self.final} exists already; not overwritten")
        _write_json(self.partial / MANIFEST_NAME, asdict(manifest))
        _fsync_folder(self.partial)
        os.rename(self.partial, self.final)
        _fsync_folder(self.source_dir)
        return self.final


@contextmanager
def pull_folder(landing_dir: Path, source: str, pull_id: str) -> Iterator[PullFolder]:
    """A pull folder under the source's lock. Whatever goes wrong, no partial folder stays, nor
    a folder the pull itself created: a failed first pull leaves the landing folder as it was."""
    source_dir = Path(landing_dir) / source
    created = [folder for folder in (source_dir, *source_dir.parents) if not folder.exists()]
    with _locked(source_dir, source):
        source_dir.mkdir(parents=True, exist_ok=True)
        for leftover in source_dir.glob(f".*{PARTIAL_SUFFIX}"):
            shutil.rmtree(leftover, ignore_errors=True)  # a pull that was killed
        folder = PullFolder(landing_dir, source, pull_id)
        folder.partial.mkdir()
        published = False
        try:
            yield folder
            published = folder.final.exists()
        finally:
            shutil.rmtree(folder.partial, ignore_errors=True)
            if not published:
                for empty in created:  # the deepest first, up to the first that existed
                    with contextlib.suppress(OSError):
                        empty.rmdir()


class CursorStore:
    """The high-water marks of the pulls, one small JSON file per source and scope."""

    def __init__(self, warehouse_dir: Path):
        self.folder = WarehouseLayout(Path(warehouse_dir)).cursors_dir

    def path(self, source: str, scope: str) -> Path:
        return self.folder / f"{source}-{scope_key(scope)}.json"

    def read(self, source: str, scope: str) -> dt.datetime | None:
        path = self.path(source, scope)
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return dt.datetime.fromisoformat(data["cursor"])

    def write(self, source: str, scope: str, cursor: dt.datetime, pull_id: str) -> None:
        path = self.path(source, scope)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(
            path,
            {"source": source, "scope": scope, "cursor": cursor.isoformat(), "pull_id": pull_id},
        )


def _write_json(path: Path, payload: Any) -> None:
    """Write to a temporary name, flush to disk, then rename: a reader sees all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _locked(source_dir: Path, source: str) -> Iterator[None]:
    """One pull of a source folder at a time. The lock file lives in the system's temporary
    folder, named after the source folder, so that a pull that fails writes nothing at all into
    the landing folder."""
    key = hashlib.sha256(str(source_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"owh-pull-{key}.lock"
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExtractError(
                f"another pull of {source} into {source_dir} is running; try again when it "
                "has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
