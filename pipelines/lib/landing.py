"""Landing-folder discovery: which files an ingest reads, proven to lie inside the landing folder.

The landing folder has one sub-folder per kind of file (``jira/``, ``tasks/``, ``kpis/``, ...; see
docs/input-contract.md). Only files directly inside a known sub-folder that match its patterns are
read, in sorted order so every run reads them the same way. A path that resolves outside the landing
folder (a symlink pointing elsewhere, a ``..`` component) is refused outright: an ingest must never
become a way to read arbitrary files of the machine (docs/privacy-and-security.md, "Landing paths").

Each file carries the SHA-256 of its bytes, so a file re-sent under another name is recognised and
not loaded twice.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FOLDER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A pull folder (``owh extract``): ``<source>/<pull id>/`` with its pages and its manifest.
MANIFEST_NAME = "manifest.json"
PAGE_PATTERNS = ("page-*.json",)


class UnsafeLandingPathError(ValueError):
    """A landing path resolves outside the landing folder; it is never read."""


@dataclass(frozen=True)
class LandingFile:
    """One file to ingest."""

    relative_path: (
        str  # relative to the landing folder, POSIX slashes: the lineage ``_source_file``
    )
    path: Path  # resolved absolute path, checked to be inside the landing folder
    sha256: str  # hex digest of the file's bytes


def list_landing_files(
    landing_dir: Path, folder: str, patterns: Sequence[str]
) -> list[LandingFile]:
    """The files directly in ``landing_dir/folder`` whose name matches a pattern, sorted by path.

    Patterns are shell globs matched case-insensitively on the file name (``*.csv`` also finds
    ``TASKS.CSV``). Hidden files (``.DS_Store``, editor backups) are skipped. A missing folder
    holds no files. Raises ``UnsafeLandingPathError`` for any path that resolves outside the
    landing folder.
    """
    root = landing_root(landing_dir)
    base = _checked_folder(root, folder)
    if base is None:
        return []
    files = []
    for entry in sorted(base.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or not _matches(entry.name, patterns):
            continue
        relative = f"{folder}/{entry.name}"
        resolved = _inside(root, entry, relative)
        if resolved.is_file():
            files.append(LandingFile(relative, resolved, file_sha256(resolved)))
    return files


def unmatched_entries(landing_dir: Path, folder: str, patterns: Sequence[str]) -> list[str]:
    """Entries of a known folder that are not read (other extensions, sub-folders)."""
    root = landing_root(landing_dir)
    base = _checked_folder(root, folder)
    if base is None:
        return []
    return [
        f"{folder}/{entry.name}"
        for entry in sorted(base.iterdir(), key=lambda p: p.name)
        if not entry.name.startswith(".")
        and not (_matches(entry.name, patterns) and entry.resolve().is_file())
        and not (entry.is_dir() and read_manifest(entry) is not None)  # a pull folder
    ]


def unknown_folders(landing_dir: Path, known: Iterable[str]) -> list[str]:
    """Sub-folders of the landing folder that no adapter reads (top-level files are ignored)."""
    root = landing_root(landing_dir)
    known_names = set(known)
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and entry.name not in known_names
    )


def landing_root(landing_dir: Path) -> Path:
    """The landing folder, resolved; a clear error when it does not exist."""
    root = Path(landing_dir).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"landing folder not found: {landing_dir}")
    return root


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _checked_folder(root: Path, folder: str) -> Path | None:
    if not _FOLDER_NAME.match(folder):
        raise UnsafeLandingPathError(f"landing folder name {folder!r} is not a plain folder name")
    base = root / folder
    if not base.exists() and not base.is_symlink():
        return None
    resolved = _inside(root, base, folder)
    return resolved if resolved.is_dir() else None


def _inside(root: Path, path: Path, shown: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise UnsafeLandingPathError(
            f"landing path {shown} resolves to {resolved}, outside the landing folder {root}; "
            "refusing to read it (replace the link by a copy of the file)"
        )
    return resolved


def _matches(name: str, patterns: Sequence[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


# Pull folders: what ``owh extract`` writes into a tracker's folder (see pipelines.extract).


@dataclass(frozen=True)
class PullManifest:
    """What a pull folder holds and how it was asked for; ingestion reads it beside the pages."""

    source: str  # jira, github, linear
    scope: str  # the site and query: pulls of one scope supersede each other
    pull_id: str
    pulled_at: str  # ISO 8601, UTC
    full: bool  # a full pull holds every issue of the scope; earlier pulls are then not read
    since: str | None  # the updated-time lower bound asked for (incremental pulls)
    issues: int
    pages: int
    cursor: str | None  # the highest ``updated`` time among the issues, ISO 8601 UTC
    # Source specifics the adapter needs to read the pages (Jira: custom field ids by role).
    details: dict[str, Any] = field(default_factory=dict)


def read_manifest(folder: Path) -> PullManifest | None:
    """The manifest of a pull folder, None for a folder that has none (not a pull)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    known = PullManifest.__dataclass_fields__
    return PullManifest(**{key: value for key, value in data.items() if key in known})


def pull_folders(source_dir: Path) -> list[tuple[Path, PullManifest]]:
    """The finished pulls of a source folder, oldest first (hidden and partial ones skipped)."""
    if not source_dir.is_dir():
        return []
    found = []
    for entry in sorted(source_dir.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        manifest = read_manifest(entry)
        if manifest is not None:
            found.append((entry, manifest))
    return found


def readable_pull_folders(source_dir: Path) -> tuple[list[Path], list[Path]]:
    """(pull folders ingestion reads, pull folders a later full pull of their scope superseded).

    A full pull holds every issue of its scope, so the pulls of that scope before it are no longer
    read: this is how an issue deleted in the tracker leaves the warehouse.
    """
    pulls = pull_folders(source_dir)
    last_full: dict[str, str] = {}
    for folder, manifest in pulls:
        if manifest.full:
            last_full[manifest.scope] = folder.name
    read, superseded = [], []
    for folder, manifest in pulls:
        cutoff = last_full.get(manifest.scope)
        (superseded if cutoff is not None and folder.name < cutoff else read).append(folder)
    return read, superseded


def list_tracker_files(
    landing_dir: Path, folder: str, patterns: Sequence[str]
) -> list[LandingFile]:
    """A tracker folder's files: those directly in it (exports made by hand), then the pages of
    every pull folder ingestion reads (oldest pull first), each checked to lie inside the landing
    folder like any other file."""
    root = landing_root(landing_dir)
    files = list_landing_files(root, folder, patterns)
    base = _checked_folder(root, folder)
    if base is None:
        return files
    read, _ = readable_pull_folders(base)
    for pull in read:
        shown = f"{folder}/{pull.name}"
        pull = _inside(root, pull, shown)
        for entry in sorted(pull.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") or not _matches(entry.name, PAGE_PATTERNS):
                continue
            resolved = _inside(root, entry, f"{shown}/{entry.name}")
            if resolved.is_file():
                files.append(LandingFile(f"{shown}/{entry.name}", resolved, file_sha256(resolved)))
    return files


def pull_manifest_of(file: LandingFile) -> PullManifest | None:
    """The manifest of the pull folder a file belongs to; None for a file exported by hand."""
    if file.relative_path.count("/") < 2:
        return None
    return read_manifest(file.path.parent)


def pull_detail(file: LandingFile, name: str) -> str | None:
    """A text detail of the pull a file belongs to (a GitHub repository, a Linear team), from its
    manifest; None for a file exported by hand or a manifest without it."""
    manifest = pull_manifest_of(file)
    value = manifest.details.get(name) if manifest else None
    return value if isinstance(value, str) else None
