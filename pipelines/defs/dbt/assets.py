"""dbt models, seeds and tests as Dagster assets and asset checks.

One ``@dbt_assets`` definition for the whole project: dbt tests become asset checks (blocking when
their severity is ``error``), and a failing ``dbt build`` fails the step, so nothing downstream
(report, publish) runs. dbt writes into the run's build file, never into the serving file.

dbt only says a test "got N results". Singular tests store their failing rows in schema ``audit``
of the build file (``store_failures`` in ``dbt_project.yml``), so a failed check carries its first
rows as a markdown table in its metadata (``failing_rows``): the Dagster UI and ``owh run`` show
what is wrong without anyone opening the build file.
"""

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from pipelines.defs.resources import WRITER_POOL, WarehouseResource, run_as_of
from pipelines.lib.duckdb_connection import connection

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# The dbt of this environment, whether or not the virtual environment is activated.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file."""
    manifest = project.manifest_path
    sources = [
        p
        for folder in ("models", "macros", "data-tests")
        for p in (project.project_dir / folder).rglob("*")
        if p.is_file()
    ]
    sources += list((project.project_dir.parent / "seeds").glob("*"))
    sources += [project.project_dir / "dbt_project.yml", project.project_dir / "profiles.yml"]
    newest = max((p.stat().st_mtime for p in sources), default=0.0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        parsed = subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
                "--target-path",
                str(project.target_path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
        if parsed.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{parsed.stdout}{parsed.stderr}")
    return manifest


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, intermediate, marts; seeds in config)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = LayeredTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
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


# How many failing rows a check shows; the whole set stays in the audit table of the build file.
FAILING_ROWS_SHOWN = 20
# Pseudonymised person columns: a test that returned one still never shows it.
PERSONAL_DATA_COLUMNS = frozenset({"assignee", "author", "respondent"})


def stored_failures_tables(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Schema and table of each dbt test that stores its failing rows, by the test's unique id.

    Schema and alias rather than dbt's ``relation_name``: that one names the catalog, and the
    catalog of a DuckDB file is named after the file, which the reader may have opened elsewhere.
    """
    return {
        unique_id: (node["schema"], node["alias"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node.get("relation_name")
    }


def attach_failing_rows(
    events: Iterable[Any], database_file: Path, manifest: Mapping[str, Any]
) -> Iterator[Any]:
    """Pass dbt's Dagster events through; failed checks of tests that stored their rows come last,
    with those rows attached.

    The dbt subprocess holds the DuckDB file until it exits, which is when its event stream ends:
    failed check results are held back until then. A failing ``dbt build`` raises at the end of
    the stream; the held-back results are yielded first, then the error is raised again, so the
    step still fails.
    """
    stored = stored_failures_tables(manifest)
    held_back: list[dg.AssetCheckResult] = []
    dbt_error: DagsterDbtCliRuntimeError | None = None
    try:
        for event in events:
            if _is_failure_with_stored_rows(event, stored):
                held_back.append(event)
            else:
                yield event
    except DagsterDbtCliRuntimeError as error:
        dbt_error = error
    for check in held_back:
        yield with_failing_rows(check, database_file, stored)
    if dbt_error is not None:
        raise dbt_error


def with_failing_rows(
    check: dg.AssetCheckResult,
    database_file: Path,
    stored: Mapping[str, tuple[str, str]],
    *,
    limit: int = FAILING_ROWS_SHOWN,
) -> dg.AssetCheckResult:
    """The check result with up to ``limit`` of its stored failing rows as a markdown table.

    Adds ``failing_rows`` (the table), ``failing_rows_shown`` and ``failing_rows_table`` (where
    the rest is). A check without stored rows is returned as it is; an audit table that cannot be
    read adds a note instead, so the check's own failure is never hidden behind another error.
    """
    unique_id = _metadata_text(check.metadata.get("unique_id"))
    if unique_id not in stored:
        return check
    schema, table = stored[unique_id]
    qualified = f"{schema}.{table}"
    try:
        columns, rows = read_failing_rows(database_file, schema, table, limit=limit)
    except duckdb.Error as error:
        note = f"failing rows could not be read from {qualified}: {str(error).splitlines()[0]}"
        return check.with_metadata({**check.metadata, "failing_rows_error": note})
    return check.with_metadata(
        {
            **check.metadata,
            "failing_rows": dg.MetadataValue.md(markdown_table(columns, rows)),
            "failing_rows_shown": dg.MetadataValue.int(len(rows)),
            "failing_rows_table": dg.MetadataValue.text(qualified),
        }
    )


def read_failing_rows(
    database_file: Path, schema: str, table: str, *, limit: int = FAILING_ROWS_SHOWN
) -> tuple[list[str], list[tuple]]:
    """The first ``limit`` rows of an audit table (in the order of all their values, so the
    same failures always show the same rows), without personal data columns."""
    relation = f"{_quote_identifier(schema)}.{_quote_identifier(table)}"
    with connection(database_file, read_only=True) as con:
        described = con.execute(f"select * from {relation} limit 0").description
        columns = [c[0] for c in described if c[0].lower() not in PERSONAL_DATA_COLUMNS]
        if not columns:
            return [], []
        select_list = ", ".join(_quote_identifier(c) for c in columns)
        rows = con.execute(
            f"select {select_list} from {relation} order by all limit {int(limit)}"
        ).fetchall()
    return columns, rows


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    """A markdown table whose cells are padded to their column's width, so that it reads as an
    aligned table in a terminal as well as in the Dagster UI."""
    cells = [[_markdown_cell(v) for v in row] for row in rows]
    widths = [max(len(name), 3, *(len(row[i]) for row in cells)) for i, name in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return "\n".join(
        [line(list(columns)), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    )


def _is_failure_with_stored_rows(event: object, stored: Mapping[str, tuple[str, str]]) -> bool:
    return (
        isinstance(event, dg.AssetCheckResult)
        and not event.passed
        and _metadata_text(event.metadata.get("unique_id")) in stored
    )


def _markdown_cell(value: object) -> str:
    if value is None:
        return ""
    # one line per cell: a newline would end the table row, a bar would start a new cell
    return " ".join(str(value).split()).replace("|", "\\|")


def _metadata_text(value: object) -> str | None:
    """The text of a metadata entry (dagster-dbt stores ``unique_id`` as a text value)."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WRITER_POOL,
)
def outcome_warehouse_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    build_file = warehouse.build_file(context)
    if not build_file.exists():
        raise dg.Failure(
            f"build file {build_file} does not exist: the ingest assets of this run did not run"
        )
    dbt_vars = json.dumps({"as_of": run_as_of(context).isoformat()})
    with _environment(OWH_DUCKDB_PATH=str(build_file)):
        # Unit tests check the SQL, not the data: they run with the test suite (`make test`),
        # where the SQL changes, not in every nightly build.
        invocation = dbt.cli(
            ["build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars],
            context=context,
        )
        yield from attach_failing_rows(invocation.stream(), build_file, invocation.manifest)


dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def mart_asset_keys(manifest_path: Path | None = None) -> list[dg.AssetKey]:
    """Asset keys of every model in the marts layer: what the report reads and publish waits on."""
    manifest = json.loads((manifest_path or ensure_manifest()).read_text())
    return sorted(
        (
            translator.get_asset_key(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]
        ),
        key=lambda key: key.to_user_string(),
    )
