"""The dbt project on disk: where it is, which dbt runs it, and its parsed manifest.

Dagster-free, so that ``make test`` can parse the project before the test workers start, and the
definitions, tests and benchmarks find the project in one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# dbt resolves a relative target path against the project folder.
DBT_TARGET_PATH = Path("target")
# The dbt of this environment, whether or not the virtual environment is activated.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# The folders of the project whose files the manifest is parsed from.
PARSED_FOLDERS = ("models", "macros", "data-tests")


def dbt_threads() -> int:
    """The threads dbt builds with: ``OWH_DBT_THREADS``, else every core this process may use.

    Nodes are independent queries on one DuckDB instance, which shares its memory limit between
    them; each query is itself parallel, so more threads than cores would only queue.
    """
    configured = os.environ.get("OWH_DBT_THREADS")
    if configured is None:
        return len(os.sched_getaffinity(0))
    if not configured.isdigit() or int(configured) < 1:
        raise ValueError(f"OWH_DBT_THREADS must be a whole number of threads, got {configured!r}")
    return int(configured)


def manifest_path(project_dir: Path = DBT_PROJECT_DIR, target_path: Path = DBT_TARGET_PATH) -> Path:
    return project_dir / target_path / "manifest.json"


def ensure_manifest(
    project_dir: Path = DBT_PROJECT_DIR,
    *,
    profiles_dir: Path | None = None,
    target_path: Path = DBT_TARGET_PATH,
) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file.

    The seeds are in ``seeds/`` beside the project (``seed-paths`` in ``dbt_project.yml``);
    ``profiles_dir`` defaults to the project folder.
    """
    profiles_dir = profiles_dir or project_dir
    manifest = manifest_path(project_dir, target_path)
    if _is_current(manifest, project_dir):
        return manifest
    # Two processes (test workers, a run beside the UI) parsing at once would both write the
    # manifest and could leave it interleaved; the second one waits and finds it current.
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with (manifest.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(manifest, project_dir):
            return manifest
        parsed = subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(profiles_dir),
                "--target-path",
                str(target_path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        if parsed.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{parsed.stdout}{parsed.stderr}")
    return manifest


def _is_current(manifest: Path, project_dir: Path) -> bool:
    """Whether the manifest exists and is newer than every file it is parsed from."""
    if not manifest.exists():
        return False
    sources = [
        p for folder in PARSED_FOLDERS for p in (project_dir / folder).rglob("*") if p.is_file()
    ]
    sources += list((project_dir.parent / "seeds").glob("*"))
    sources += [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    newest = max((p.stat().st_mtime for p in sources), default=0.0)
    return manifest.stat().st_mtime >= newest


@contextlib.contextmanager
def dbt_environment(**values: str) -> Iterator[None]:
    """Set environment variables for a dbt subprocess and restore them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
