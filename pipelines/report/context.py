"""What every section receives and what it returns: sections are independent of each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import Markup

from pipelines.report.period import ReportPeriod
from pipelines.report.queries import MartReader

CHART_DIV = 'class="plotly-graph-div"'  # how plotly's figure.to_html opens a chart's <div>


@dataclass(frozen=True)
class ReportContext:
    """The open marts, the period, and what several sections share (team colours)."""

    marts: MartReader
    period: ReportPeriod
    team_colours: Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """One numbered part of the report: its anchor, title, a line on how to read it, its body,
    and the relations (``marts.<mart>``, ``config.<seed>``) its figures were read from."""

    anchor: str
    title: str
    how_to_read: str
    body: Markup
    sources: tuple[str, ...] = ()

    @property
    def charts(self) -> int:
        """How many charts the body draws, one plotly ``<div>`` each: the page declares the
        number, so that a reader (the browser test) can check that every one was drawn."""
        return self.body.count(CHART_DIV)


SectionBuilder = Callable[[ReportContext], Section]
