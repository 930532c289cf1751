"""Section 5: each outcome's KPI against its expected trajectory and target, and a status table."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from pipelines.report.charts import figure_html, outcome_chart
from pipelines.report.context import ReportContext, Section
from pipelines.report.fragments import (
    Column,
    attention_rank,
    data_table,
    format_number,
    format_share,
    notice,
    status_badge,
)
from pipelines.report.queries import outcome_definitions, outcome_progress, plain, records
from pipelines.report.sections.gaps import NO_OBSERVATIONS, NO_OUTCOMES

TABLE_COLUMNS = (
    Column("Outcome"),
    Column("KPI"),
    Column("Baseline → target"),
    Column("Latest actual", numeric=True),
    Column("Progress", numeric=True),
    Column("Expected progress", numeric=True),
    Column("Status"),
    Column("Days since last observation", numeric=True),
)

HOW_TO_READ = (
    "Each outcome's KPI by month: the solid line is the actual value, the dashed line the value "
    "expected on a straight path from baseline to target, the dotted line the target. Progress "
    "is the share of the baseline-to-target distance covered; expected progress is the share "
    "of the baseline-to-target time elapsed. Outcomes that need attention come first."
)


@dataclass(frozen=True)
class OutcomeView:
    """One outcome's definition and its monthly rows up to the report month."""

    definition: dict[str, object]
    history: pd.DataFrame

    @property
    def latest(self) -> dict[str, object] | None:
        """The row of the report month, or of the last month before it the mart holds."""
        return records(self.history.tail(1))[0] if len(self.history) else None

    @property
    def status(self) -> str | None:
        latest = self.latest
        return None if latest is None else latest["status"]

    @property
    def unit(self) -> str:
        return str(self.definition["unit"] or "")

    @property
    def attention_rank(self) -> int:
        return attention_rank(self.status)


def outcomes_section(context: ReportContext) -> Section:
    title = "Outcomes: actual vs expected vs target"
    definitions = outcome_definitions(context.marts)
    if definitions.empty:
        return Section("outcomes", title, HOW_TO_READ, notice(NO_OUTCOMES))
    progress = outcome_progress(context.marts, context.period)
    views = sorted(
        (
            OutcomeView(
                definition=definition,
                history=progress[progress["outcome_id"] == definition["outcome_id"]],
            )
            for definition in records(definitions)
        ),
        key=lambda view: (view.attention_rank, str(view.definition["outcome_id"])),
    )
    cards = Markup("").join(
        _outcome_card(view, index, context) for index, view in enumerate(views, start=1)
    )
    table = data_table(TABLE_COLUMNS, [_table_row(view) for view in views])
    return Section(
        "outcomes", title, HOW_TO_READ, table + Markup('<div class="cards">{}</div>').format(cards)
    )


def _table_row(view: OutcomeView) -> list[object]:
    definition, latest = view.definition, view.latest or {}
    days = latest.get("days_since_last_observation")
    return [
        definition["statement"],
        _kpi_label(definition),
        _baseline_to_target(view),
        format_number(latest.get("actual_value"), view.unit),
        format_share(latest.get("progress")),
        format_share(latest.get("expected_progress")),
        status_badge(view.status),
        "—" if days is None else f"{int(days):,}",
    ]


def _kpi_label(definition: dict[str, object]) -> str:
    better = {"increase": "higher is better", "decrease": "lower is better"}
    direction = better.get(str(definition["direction"]))
    name = definition["kpi_name"] or definition["kpi_id"]
    return f"{name} ({direction})" if direction else str(name)


def _baseline_to_target(view: OutcomeView) -> Markup:
    d = view.definition
    return Markup(
        '<span class="nowrap">{} → {}</span><br><span class="muted nowrap">{} → {}</span>'
    ).format(
        format_number(d["baseline_value"], view.unit),
        format_number(d["target_value"], view.unit),
        d["baseline_on"] or "—",
        d["target_on"] or "—",
    )


def _outcome_card(view: OutcomeView, index: int, context: ReportContext) -> Markup:
    d = view.definition
    meta = [f"KPI: {_kpi_label(d)}"]
    if d["owner"]:
        meta.append(f"owner: {d['owner']}")
    if view.history.empty or not view.history["actual_value"].notna().any():
        body = notice(NO_OBSERVATIONS.format(month=context.period.label))
    else:
        body = figure_html(_trajectory(view), f"chart-outcome-{index}-{_slug(d['outcome_id'])}")
    return Markup(
        '<article class="card outcome" data-outcome="{}">'
        '<header><h3>{}</h3>{}</header><p class="muted">{}</p>{}</article>'
    ).format(d["outcome_id"], d["statement"], status_badge(view.status), " · ".join(meta), body)


def _trajectory(view: OutcomeView) -> go.Figure:
    d = view.definition
    target = d["target_value"]
    return outcome_chart(
        plain(view.history["month"]),
        plain(view.history["actual_value"]),
        plain(view.history["expected_value"]),
        target_value=target,
        target_label=f"target {format_number(target, view.unit)} by {d['target_on']}",
        unit=view.unit,
    )


def _slug(identifier: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(identifier).lower()).strip("-") or "outcome"
