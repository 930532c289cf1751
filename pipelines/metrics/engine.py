"""MetricFlow over the published warehouse, read-only.

The semantic layer is defined in ``dbt_project/models/semantic/`` and parsed by dbt into
``semantic_manifest.json`` beside the project's manifest. MetricFlow turns a metric request into
SQL; this module runs that SQL on a read-only connection to the published ``warehouse.duckdb``.
A nightly run never writes that file: it builds a file of its own and renames it over the served
one, so a reader keeps the version it opened and the next connection sees the new one.

MetricFlow's dbt client opens the warehouse through the dbt adapter and the project's profile,
which renders the build file's path and opens it for writing; this client uses the project's own
hardened read-only connection instead, and MetricFlow only for the SQL.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.engine.models import Entity
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantic_interfaces.type_enums.dimension_type import DimensionType
from metricflow_semantics.errors.error_classes import SqlBindParametersNotSupportedError
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from pipelines.lib.dbt_project import DBT_PROJECT_DIR, ensure_manifest
from pipelines.lib.duckdb_connection import connect
from pipelines.lib.sql import quote_identifier

SEMANTIC_MANIFEST_FILE = "semantic_manifest.json"
NO_BIND_PARAMETERS = SqlBindParameterSet()


class MetricsError(ValueError):
    """A metric request that cannot be answered, with what would be valid instead."""


@dataclass(frozen=True)
class MetricInfo:
    name: str
    type: str
    label: str
    description: str
    group_bys: tuple[str, ...]


@dataclass(frozen=True)
class MetricsResult:
    frame: pd.DataFrame
    sql: str


def semantic_manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The semantic manifest of the current code, parsed first when the project changed."""
    return ensure_manifest(project_dir).with_name(SEMANTIC_MANIFEST_FILE)


def load_semantic_manifest_lookup(path: Path | None = None) -> SemanticManifestLookup:
    path = path or semantic_manifest_path()
    if not path.exists():
        raise MetricsError(f"no semantic manifest at {path}: dbt parse did not write one")
    manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())
    return SemanticManifestLookup(manifest)


class DuckDBReadOnlySqlClient:
    """MetricFlow's ``SqlClient`` over one read-only DuckDB connection; it never writes."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_BIND_PARAMETERS
    ) -> MetricFlowDataTable:
        _refuse_bind_parameters(sql_bind_parameter_set)
        cursor = self._con.execute(stmt)
        columns = [description[0] for description in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=cursor.fetchall())

    def execute(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_BIND_PARAMETERS
    ) -> None:
        _refuse_bind_parameters(sql_bind_parameter_set)
        self._con.execute(stmt)

    def dry_run(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_BIND_PARAMETERS
    ) -> None:
        _refuse_bind_parameters(sql_bind_parameter_set)
        self._con.execute(f"explain {stmt}")

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _refuse_bind_parameters(parameters: SqlBindParameterSet) -> None:
    if parameters.param_dict:
        raise SqlBindParametersNotSupportedError(
            f"bind parameters are not supported: {dict(parameters.param_dict)}"
        )


class MetricsClient:
    """The semantic layer's metrics over one DuckDB warehouse file, opened read-only."""

    def __init__(self, con: duckdb.DuckDBPyConnection, lookup: SemanticManifestLookup) -> None:
        self._con = con
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=lookup, sql_client=DuckDBReadOnlySqlClient(con)
        )

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, warehouse_file: Path, *, semantic_manifest: Path | None = None
    ) -> Iterator[MetricsClient]:
        if not warehouse_file.exists():
            raise MetricsError(
                f"no published warehouse at {warehouse_file}: run `owh run` (or `owh demo`) first"
            )
        lookup = load_semantic_manifest_lookup(semantic_manifest)
        con = connect(warehouse_file, read_only=True)
        try:
            yield cls(con, lookup)
        finally:
            con.close()

    def metric_names(self) -> list[str]:
        return sorted(metric.name for metric in self._engine.list_metrics(include_dimensions=False))

    def saved_query_names(self) -> list[str]:
        return sorted(query.name for query in self._engine.list_saved_queries())

    def group_bys(self, metrics: Sequence[str]) -> list[str]:
        """The names a query of ``metrics`` may group by: dimensions (with ``metric_time`` at
        each granularity) and entities."""
        names = set()
        for item in self._engine.list_group_bys(list(metrics)):
            if isinstance(item, Entity):
                names.add(item.name)
                continue
            if item.type is not DimensionType.TIME:
                names.add(item.dunder_name)
                continue
            finest = item.type_params.time_granularity.value
            # metric_time comes named at its finest grain (metric_time__day), the others bare
            name = item.dunder_name.removesuffix(f"__{finest}")
            names.add(name)
            names.update(f"{name}__{grain}" for grain in TIME_GRAINS[TIME_GRAINS.index(finest) :])
        return sorted(names)

    def list_metrics(self) -> list[MetricInfo]:
        metrics = []
        for metric in self._engine.list_metrics(include_dimensions=False):
            metrics.append(
                MetricInfo(
                    name=metric.name,
                    type=str(metric.type.value),
                    label=metric.label or metric.name,
                    description=" ".join((metric.description or "").split()),
                    group_bys=tuple(self.group_bys([metric.name])),
                )
            )
        return sorted(metrics, key=lambda m: m.name)

    def query(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        *,
        where: Sequence[str] = (),
        saved_query: str | None = None,
    ) -> MetricsResult:
        """Rows of ``metrics`` grouped by ``group_by`` (or of a saved query), ordered by the
        group-by columns."""
        if saved_query is not None:
            self._check_saved_query(saved_query)
            request = MetricFlowQueryRequest.create(
                saved_query_name=saved_query, where_constraints=list(where) or None
            )
        else:
            self._check_request(metrics, group_by)
            request = MetricFlowQueryRequest.create(
                metric_names=list(metrics),
                group_by_names=list(group_by),
                where_constraints=list(where) or None,
                order_by_names=list(group_by),
            )
        try:
            sql = self._engine.explain(request).sql_statement.sql
        except Exception as exc:
            raise MetricsError(f"MetricFlow cannot answer this query: {exc}") from exc
        try:
            frame = self._typed_frame(sql)
        except duckdb.Error as exc:
            raise MetricsError(f"the warehouse refused the query: {exc}") from exc
        return MetricsResult(frame=frame, sql=sql)

    def _typed_frame(self, sql: str) -> pd.DataFrame:
        """The rows of ``sql`` in the types the marts use: counts as BIGINT (DuckDB sums them
        into HUGEINT), periods as DATE (every time dimension here is a day or coarser, and
        date_trunc returns a TIMESTAMP), nulls kept as nulls rather than turning counts into
        floats."""
        relation = self._con.sql(sql)
        columns = []
        for name, column_type in zip(relation.columns, relation.types, strict=True):
            quoted = quote_identifier(name)
            if str(column_type) == "HUGEINT":
                columns.append(f"cast({quoted} as bigint) as {quoted}")
            elif str(column_type).startswith("TIMESTAMP"):
                columns.append(f"cast({quoted} as date) as {quoted}")
            else:
                columns.append(quoted)
        typed = relation.project(", ".join(columns))
        return typed.to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)

    def _check_request(self, metrics: Sequence[str], group_by: Sequence[str]) -> None:
        if not metrics:
            raise MetricsError(f"name at least one metric; valid: {', '.join(self.metric_names())}")
        known = self.metric_names()
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise MetricsError(
                f"unknown metric{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}{_did_you_mean(unknown[0], known)}; "
                f"valid metrics: {', '.join(known)}"
            )
        valid = self.group_bys(metrics)
        unknown = [g for g in group_by if g.lower() not in valid]
        if unknown:
            raise MetricsError(
                f"unknown group-by {', '.join(map(repr, unknown))} for "
                f"{', '.join(metrics)}{_did_you_mean(unknown[0], valid)}; "
                f"valid: {', '.join(valid)}"
            )

    def _check_saved_query(self, name: str) -> None:
        known = self.saved_query_names()
        if name not in known:
            raise MetricsError(
                f"unknown saved query {name!r}{_did_you_mean(name, known)}; "
                f"valid saved queries: {', '.join(known)}"
            )


TIME_GRAINS = ("day", "week", "month", "quarter", "year")


def _did_you_mean(name: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
