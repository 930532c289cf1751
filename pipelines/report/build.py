"""Build the month's leadership report from schema ``marts`` into one self-contained HTML file.

The page embeds plotly.js once and every chart's data, so it opens offline; it carries no
timestamp other than the as-of date, so the same data always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipelines.lib.duckdb_connection import connection
from pipelines.report.charts import default_template, inline_plotlyjs, team_colours
from pipelines.report.context import ReportContext, Section, SectionBuilder
from pipelines.report.fragments import counted
from pipelines.report.period import ReportPeriod
from pipelines.report.queries import (
    MartReader,
    OrganisationFigures,
    organisation_figures,
    team_names,
)
from pipelines.report.sections import SECTIONS

LATEST = "latest.html"
TEMPLATE = "report.html.j2"
ORGANISATION_SOURCE = "marts.mart_org_monthly"  # the header line, as organisation_figures reads it

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pipelines.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class ReportResult:
    """Files written (the month's report, then ``latest.html`` if written) and the counts used."""

    paths: tuple[Path, ...]
    month: dt.date
    teams: int
    tasks: int
    outcomes: int


def build_report(
    warehouse_file: Path, reports_dir: Path, *, as_of: dt.date, month: dt.date | None = None
) -> ReportResult:
    """Write ``reports_dir/<YYYY-MM>.html`` and, for the last complete month only, ``latest.html``.

    ``month`` is any day of the report month (default: the last complete month at ``as_of``).
    The month of ``as_of`` itself, unless ``as_of`` is its last day, is still in progress: it is
    built only when asked for, labelled partial, and never replaces ``latest.html``, so that
    ``latest.html`` never judges a month on its first few days. A month after ``as_of`` raises
    ValueError; a warehouse without one of the marts the report reads raises MissingMartError
    naming them. The warehouse is opened read-only, so the report can be built from the published
    file while BI tools read it.
    """
    period = ReportPeriod.resolve(as_of, month)
    # one template for every figure, set once (charts.default_template)
    with connection(warehouse_file, read_only=True) as con, default_template():
        marts = MartReader(con)
        marts.require()
        figures = organisation_figures(marts, period)
        colours = team_colours(team_names(marts))
        sections = [_build_section(builder, marts, period, colours) for builder in SECTIONS]
    page = render_page(period, figures, sections)

    reports_dir.mkdir(parents=True, exist_ok=True)
    paths = [_write_atomically(reports_dir / f"{period.slug}.html", page)]
    if period.replaces_latest:
        paths.append(_write_atomically(reports_dir / LATEST, page))
    return ReportResult(
        paths=tuple(paths),
        month=period.month,
        teams=figures.teams,
        tasks=figures.tasks,
        outcomes=figures.outcomes,
    )


def _build_section(
    build_section: SectionBuilder,
    marts: MartReader,
    period: ReportPeriod,
    colours: dict[str, str],
) -> Section:
    """One section, with the relations it read named as its sources: recorded, not declared,
    so the page cannot name a mart a section does not read, nor leave one out."""
    reader = marts.fresh()
    section = build_section(ReportContext(reader, period, colours))
    return replace(section, sources=tuple(reader.read))


def render_page(period: ReportPeriod, figures: OrganisationFigures, sections: list[Section]) -> str:
    """The whole HTML document: header, table of contents, sections, plotly.js inlined once."""
    return _templates.get_template(TEMPLATE).render(
        period=period,
        figures=figures,
        sections=sections,
        organisation_line=" · ".join(
            (
                counted(figures.teams, "team"),
                counted(figures.tasks, "task"),
                f"{figures.completed_in_month:,} completed in {period.label}",
                counted(figures.outcomes, "outcome"),
            )
        ),
        organisation_source=ORGANISATION_SOURCE,
        plotly_js=Markup(inline_plotlyjs()),
    )


def _write_atomically(path: Path, text: str) -> Path:
    """Replace ``path`` in one step: a reader never sees a half-written report."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; a report is meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
