"""Shared runs of the whole pipeline: each is expensive, so each runs once per test session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

# Imported once here, so that the runs of this session validate their suites in this process
# (``pipelines.lib.gx_worker.running`` starts no worker in a process that has imported Great
# Expectations): a worker per run would import it again, on a core the other test worker uses.
# The worker is tested in tests/unit/test_gx_worker.py; `owh demo` runs through it.
import pipelines.lib.gx_suites  # noqa: F401
from pipelines.demo.generator import generate_demo
from pipelines.lib import dbt_preload
from pipelines.lib.dbt_project import (
    FILE_LOG_ARGS,
    PARTIAL_PARSE_FILE,
    build_environment,
    dbt_command,
    ensure_manifest,
    reuse_parse,
)
from pipelines.lib.layout import WarehouseLayout
from pipelines.runner import DEFAULT_DAGSTER_HOME, RunSummary, run_nightly

from . import bi_client
from .landing_changes import add_jira_pull

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline"
DEMO_END = dt.date(2026, 10, 31)
DEMO_TASKS = 600
# when the next night's Jira pull says its issues were updated
PULL_UPDATED_AT = dt.datetime.combine(DEMO_END, dt.time(2, 0))
PROJECT_INSTANCE_CONFIG = DEFAULT_DAGSTER_HOME / "dagster.yaml"


def published(warehouse: Path) -> Path:
    return WarehouseLayout(warehouse).serving_file


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory, monkeypatch_session) -> Path:
    """A Dagster home of the test session's own, with the project's storage (its SQLite event log
    settings, pipelines/lib/dagster_storage.py) and no telemetry."""
    home = tmp_path_factory.mktemp("dagster_home")
    storage = yaml.safe_load(PROJECT_INSTANCE_CONFIG.read_text())["storage"]
    config = {"storage": storage, "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch_session.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, dagster_home) -> tuple[Path, Path, RunSummary]:
    """A small generated organisation plus the hand-checked Jira page, run end to end."""
    root = tmp_path_factory.mktemp("demo")
    landing, warehouse = root / "landing", root / "warehouse"
    generate_demo(landing, tasks=DEMO_TASKS, seed=11, end_date=DEMO_END)
    shutil.copy(FIXTURES / "jira" / "hand-checked.json", landing / "jira" / "zz-hand-checked.json")
    summary = run_nightly(landing, warehouse, as_of=DEMO_END, demo=True)
    return landing, warehouse, summary


@pytest.fixture(scope="session")
def jira_only_run(tmp_path_factory, dagster_home) -> tuple[Path, Path, RunSummary]:
    """A landing folder holding one Jira page and nothing else, run end to end: every model is
    built (the outcome marts empty), at a fraction of the demo's cost."""
    root = tmp_path_factory.mktemp("jira_only")
    landing, warehouse = root / "landing", root / "warehouse"
    (landing / "jira").mkdir(parents=True)
    shutil.copy(FIXTURES / "jira" / "hand-checked.json", landing / "jira" / "page-1.json")
    summary = run_nightly(landing, warehouse, as_of=DEMO_END, demo=True)
    return landing, warehouse, summary


@dataclass(frozen=True)
class IncrementalRuns:
    """The Jira-only build's next night, run twice on copies of its warehouse (see
    ``incremental_runs``)."""

    landing: Path
    first_warehouse: Path
    incremental: Path
    full: Path
    pulled_issues: int
    first: RunSummary
    summary: RunSummary
    refreshed: RunSummary
    release_before: str
    bi_reads: list[dict]


@pytest.fixture(scope="session")
def incremental_runs(jira_only_run, tmp_path_factory) -> IncrementalRuns:
    """A Jira pull of updated issues arrives after the Jira-only run. One copy of its warehouse
    runs incrementally (only the pull's page is parsed) while a BI client reads it
    (tests/integration/bi_client.py); the other runs with ``full_refresh``. Shared by the
    incremental-ingestion test and the BI client test: one night, run once."""
    first_landing, first_warehouse, first = jira_only_run
    root = tmp_path_factory.mktemp("incremental")
    landing = root / "landing"
    shutil.copytree(first_landing, landing)
    incremental, full = root / "incremental", root / "full"
    for warehouse in (incremental, full):
        shutil.copytree(first_warehouse, warehouse, symlinks=True)
    pulled = add_jira_pull(landing, share=0.5, updated_at=PULL_UPDATED_AT)
    release_before = os.readlink(WarehouseLayout(incremental).marts_dir)
    (root / "bi_client").mkdir()
    with bi_client.reading(incremental, root / "bi_client") as client:
        summary = run_nightly(landing, incremental, as_of=DEMO_END, demo=True)
    refreshed = run_nightly(landing, full, as_of=DEMO_END, demo=True, full_refresh=True)
    return IncrementalRuns(
        landing,
        first_warehouse,
        incremental,
        full,
        pulled,
        first,
        summary,
        refreshed,
        release_before,
        client.reads,
    )


def run_dbt(
    database_file: Path, *args: str, as_of: dt.date = DEMO_END
) -> subprocess.CompletedProcess:
    """dbt against ``database_file`` on ``as_of`` (the demo's last day unless given), with its
    target and logs in the folder above the file's; named as the nightly names it, so dbt reuses
    the project's parse."""
    work = database_file.parent.parent
    reuse_parse(work / "target")
    # dbt.log as the nightly writes it: at dbt's default level every statement is also built
    # into an event and logged, about a seventh of the CPU of the unit tests' run
    _, *arguments = dbt_command(
        *args, *FILE_LOG_ARGS, target_path=work / "target", log_path=work / "logs"
    )
    launcher, launcher_environment = preloaded_dbt()
    return subprocess.run(
        [*launcher, *arguments],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **build_environment(database_file, as_of),
            **launcher_environment,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
    )


def preloaded_dbt() -> tuple[list[str], dict[str, str]]:
    """The command and environment that run dbt forked from the session's preloaded dbt, as the
    nightlies' builds are: a dbt started afresh spends seconds importing and preparing itself
    before its first node."""
    preloaded = dbt_preload.shared(ensure_manifest().with_name(PARTIAL_PARSE_FILE))
    return dbt_preload.launcher_command(), dbt_preload.launcher_environment(preloaded)
