"""Check results: dbt test results and Great Expectations suite results as Dagster check results.

- A dbt test is an asset check (dagster-dbt makes the result); when it failed and stored its
  failing rows, ``attach_failing_rows`` adds its first rows as a markdown table
  (``failing_rows``), so the Dagster UI and ``owh run`` show what is wrong without anyone opening
  the build file.
- A Great Expectations suite on a raw table becomes one blocking check result
  (``suite_check_result``): counts only, and the failed expectations as a markdown table
  (``failing_expectations``), never a value.
- ``failing_rows_of`` reads either table back out of a check's metadata, for ``owh run`` and
  ``owh check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb

from pipelines.lib.failing_rows import (
    FAILING_ROWS_SHOWN,
    markdown_table,
    read_failing_rows,
    stored_failures_tables,
)

if TYPE_CHECKING:
    # `owh check` and `owh run` read check metadata through this module: neither dbt nor Great
    # Expectations is imported for them, which would take seconds
    from pipelines.lib.quality import SuiteResult

# Metadata entries of a failed check that show what failed: a dbt test's stored rows, a suite's
# failed expectations.
FAILING_ROWS = "failing_rows"
FAILING_EXPECTATIONS = "failing_expectations"


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
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

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
            FAILING_ROWS: dg.MetadataValue.md(markdown_table(columns, rows)),
            "failing_rows_shown": dg.MetadataValue.int(len(rows)),
            "failing_rows_table": dg.MetadataValue.text(qualified),
        }
    )


def suite_check_result(result: SuiteResult, previous_rows: int | None) -> dg.AssetCheckResult:
    """A raw table's suite as a blocking check result: counts, and the failed expectations."""
    metadata: dict[str, dg.RawMetadataValue] = {
        "expectations": dg.MetadataValue.int(len(result.outcomes)),
        "failed": dg.MetadataValue.int(len(result.failures)),
        "could_not_run": dg.MetadataValue.int(len(result.errors)),
        "previous_rows": (
            dg.MetadataValue.int(previous_rows) if previous_rows else "no published load"
        ),
    }
    if not result.passed:
        metadata[FAILING_EXPECTATIONS] = dg.MetadataValue.md(result.markdown())
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.summary(),
        metadata=metadata,
    )


def failing_rows_of(metadata: Mapping[str, object]) -> str | None:
    """What a failed check shows under its name: the failing rows a dbt check carries or the
    failed expectations of a Great Expectations suite."""
    for key in (FAILING_ROWS, FAILING_EXPECTATIONS):
        value = metadata.get(key)
        if value is not None:
            return str(getattr(value, "value", value))
    return None


def _is_failure_with_stored_rows(event: object, stored: Mapping[str, tuple[str, str]]) -> bool:
    return (
        isinstance(event, dg.AssetCheckResult)
        and not event.passed
        and _metadata_text(event.metadata.get("unique_id")) in stored
    )


def _metadata_text(value: object) -> str | None:
    """The text of a metadata entry (dagster-dbt stores ``unique_id`` as a text value)."""
    if value is None:
        return None
    return str(getattr(value, "value", value))
