"""The dbt project on disk: where it is, which dbt runs it, and its parsed manifest.

Dagster-free, so that ``make test`` can parse the project before the test workers start, and the
definitions, tests and benchmarks find the project in one place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from pipelines.lib.layout import DATABASE_FILE_NAME

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# dbt resolves a relative target path against the project folder.
DBT_TARGET_PATH = Path("target")
# The dbt of this environment, whether or not the virtual environment is activated.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# dbt's log file (dbt.log) in the nightly's builds and the test suite's dbt commands: what dbt
# prints, in text. At dbt's default, debug, it also logged every statement (as JSON in a build),
# 25 MB a build and a tenth of its time; the events Dagster shows come from dbt's output.
FILE_LOG_ARGS = ("--log-level-file", "info", "--log-format-file", "text")
# The folders of the project whose files the manifest is parsed from.
PARSED_FOLDERS = ("models", "macros", "data-tests")
# What the profile's ``path`` renders to for every build: dbt reparses the whole project (~5 s)
# whenever a rendered profile value or a ``--vars`` value differs from the parse it kept, so
# the build file is named through the home folder dbt is given (DuckDB expands "~"), and the
# reporting date reaches dbt as OWH_AS_OF, read only while nodes execute (macro as_of_date).
PROFILE_DATABASE_PATH = f"~/{DATABASE_FILE_NAME}"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


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


def dbt_command(
    *args: str, target_path: Path, log_path: Path, profiles_dir: Path = DBT_PROJECT_DIR
) -> list[str]:
    """``dbt <args>`` on the project, with the profiles of ``profiles_dir``, its artifacts in
    ``target_path`` and its log in ``log_path``: the command line of every dbt process the
    project starts itself (dagster-dbt starts the nightly's builds)."""
    return [
        DBT_EXECUTABLE,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]


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
            env={
                **os.environ,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                # the profile every build renders, so that builds reuse this parse
                "OWH_DUCKDB_PATH": PROFILE_DATABASE_PATH,
            },
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


def build_environment(database_file: Path, as_of: dt.date | None = None) -> dict[str, str]:
    """The environment variables under which dbt builds ``database_file`` on ``as_of``.

    A file named like every build file is reached through the profile that ``ensure_manifest``
    parsed with (dbt's home folder is the file's folder), so dbt reuses that parse instead of
    parsing the project again; any other file is named as it is, and costs a parse.
    """
    database_file = database_file.resolve()
    values = {"OWH_DUCKDB_PATH": str(database_file)}
    if database_file.name == DATABASE_FILE_NAME:
        values = {"OWH_DUCKDB_PATH": PROFILE_DATABASE_PATH, "HOME": str(database_file.parent)}
    if as_of is not None:
        values["OWH_AS_OF"] = as_of.isoformat()
    return values


def reuse_parse(target_dir: Path, project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Give a dbt target folder the project's kept parse, for a dbt run outside Dagster (which
    does the same for the runs it starts); dbt checks that it still matches before using it."""
    kept = ensure_manifest(project_dir).with_name(PARTIAL_PARSE_FILE)
    target_dir.mkdir(parents=True, exist_ok=True)
    if kept.exists() and not (target_dir / PARTIAL_PARSE_FILE).exists():
        shutil.copy(kept, target_dir / PARTIAL_PARSE_FILE)


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
