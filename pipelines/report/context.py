"""What every section receives and what it returns: sections are independent of each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import Markup

from pipelines.report.period import ReportPeriod
from pipelines.report.queries import MartReader, OrganisationFigures


@dataclass(frozen=True)
class ReportContext:
    """The open marts, the period, and what several sections share (figures, team colours)."""

    marts: MartReader
    period: ReportPeriod
    figures: OrganisationFigures
    team_colours: Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """One numbered part of the report: its anchor, title, a line on how to read it, and body."""

    anchor: str
    title: str
    how_to_read: str
    body: Markup


SectionBuilder = Callable[[ReportContext], Section]
