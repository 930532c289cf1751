"""Small HTML building blocks shared by the sections; every value passed in is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

STATUS_LABELS = {
    "achieved": "Achieved",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
}
NOT_EVALUATED = "Not evaluated"

# Problems first: leadership reads the top of a list. None: no row for the report month.
ATTENTION_ORDER = ("off_track", "at_risk", "no_data", None, "on_track", "achieved")


def attention_rank(status: object) -> int:
    """Where an outcome with this status goes in a list read top down (NaN counts as None)."""
    if status is not None and status != status:  # NaN from a pandas column
        status = None
    return ATTENTION_ORDER.index(status) if status in ATTENTION_ORDER else len(ATTENTION_ORDER)


@dataclass(frozen=True)
class Figure:
    """A headline number with its label; ``key`` lets readers and tests find it in the page."""

    key: str
    value: str
    label: str


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False


def figure_tiles(figures: Sequence[Figure]) -> Markup:
    tiles = Markup("").join(
        Markup(
            '<div class="tile" data-figure="{}">'
            '<div class="tile-value">{}</div><div class="tile-label">{}</div></div>'
        ).format(figure.key, figure.value, figure.label)
        for figure in figures
    )
    return Markup('<div class="tiles">{}</div>').format(tiles)


def status_badge(status: str | None) -> Markup:
    """A coloured pill; an outcome without a row for the month is 'not evaluated'."""
    if status is None:
        return Markup('<span class="badge status-not-evaluated">{}</span>').format(NOT_EVALUATED)
    label = STATUS_LABELS.get(status, status)
    return Markup('<span class="badge status-{}">{}</span>').format(status.replace("_", "-"), label)


def notice(text: str) -> Markup:
    """A visible statement of what is missing, in place of a chart or table."""
    return Markup('<p class="notice">{}</p>').format(text)


def data_table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> Markup:
    """A plain table; cells may be text (escaped) or ready-made Markup."""
    header = Markup("").join(
        Markup("<th{}>{}</th>").format(_numeric_class(column), column.title) for column in columns
    )
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(
            Markup("").join(
                Markup("<td{}>{}</td>").format(_numeric_class(column), escape(cell))
                for column, cell in zip(columns, row, strict=True)
            )
        )
        for row in rows
    )
    return Markup(
        '<div class="table-wrap"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>'
    ).format(header, body)


def _numeric_class(column: Column) -> Markup:
    """Numbers align right so that digits line up down the column."""
    return Markup(' class="num"') if column.numeric else Markup("")


def format_number(value: float | None, unit: str | None = None) -> str:
    """``1,234.5 days``: at most two decimals, no trailing zeros; an em dash when unknown."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_share(value: float | None) -> str:
    """A progress ratio (0.4) as a percentage (40%)."""
    return "—" if value is None else f"{value * 100:,.0f}%"


def counted(number: int, noun: str) -> str:
    """``1 team``, ``3 teams``, ``1,204 tasks``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
