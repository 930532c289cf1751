"""The demo's report opened in a real browser: Chromium, driven by Playwright, from the file.

The unit tests read the report's HTML; only a browser shows that plotly.js draws every chart, that
nothing in the page fails, and that the page asks the network for nothing. The browser is the
system's Chromium (Debian's ``chromium`` package, which ``make chromium`` installs and ``make
test`` asks for); Playwright downloads no browser of its own. Where there is no Chromium the
tests skip, saying why.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

CHROMIUM = Path(os.environ.get("OWH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1280, "height": 900}
SCATTER = "chart-cycle-time-scatter"

# Per chart: its id, whether plotly drew its SVG, and how many data marks (points, bars, lines,
# areas) with a drawn path it holds. Every mark plotly draws for data sits in a trace group of a
# subplot's data layers; an empty trace draws no path or a path without coordinates.
CHART_MARKS = """
() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(chart => ({
    id: chart.id,
    section: chart.closest('section') ? chart.closest('section').id : null,
    svg: chart.querySelector('svg.main-svg') !== null,
    marks: Array.from(chart.querySelectorAll('.cartesianlayer g.trace path'))
        .filter(path => /\\d/.test(path.getAttribute('d') || '')).length,
}))
"""
SECTIONS = """
() => Array.from(document.querySelectorAll('section.report-section')).map(section => ({
    id: section.id,
    declared: Number(section.dataset.charts),
    charts: section.querySelectorAll('.plotly-graph-div').length,
}))
"""
TABLES = """
() => Array.from(document.querySelectorAll('table')).map(table => ({
    section: table.closest('section') ? table.closest('section').id : null,
    rows: table.querySelectorAll('tbody tr').length,
    filled_rows: Array.from(table.querySelectorAll('tbody tr'))
        .filter(row => row.innerText.trim() !== '').length,
}))
"""
CONTENTS_LINKS = """
() => Array.from(document.querySelectorAll('nav.toc a')).map(link => ({
    href: link.getAttribute('href'),
    target: document.getElementById(link.getAttribute('href').slice(1)) !== null,
}))
"""


@dataclass
class OpenedReport:
    """A report as the browser loaded it, with everything it complained about or asked for."""

    path: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    declared_charts: int = 0
    tables: list[dict] = field(default_factory=list)
    contents_links: list[dict] = field(default_factory=list)
    # the hover label of the scatterplot's first point, and the task label the page gave it
    scatter_hover: str = ""
    scatter_label: str = ""
    screenshots: list[Path] = field(default_factory=list)


def chromium_missing_reason(chromium: Path = CHROMIUM) -> str | None:
    """Why the browser tests cannot run here, or None when they can: only a missing Chromium
    skips them (a broken Playwright is an error, not a reason to skip)."""
    if not chromium.is_file():
        return (
            f"no Chromium at {chromium}: `make chromium` installs Debian's chromium package "
            "(apt-get, as root); set OWH_CHROMIUM to use another Chromium"
        )
    return None


def open_report(report: Path, screenshots: Path) -> OpenedReport:
    """Open ``report`` in Chromium, collect what the checks read, screenshot each section into
    ``screenshots``; every request that is not for a file is refused and recorded."""
    from playwright.sync_api import sync_playwright

    opened = OpenedReport(report)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)

            def route(request_route) -> None:
                url = request_route.request.url
                if url.startswith("file://"):
                    request_route.continue_()
                else:
                    opened.requests.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.on(
                "console",
                lambda message: (
                    opened.console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: opened.page_errors.append(str(error)))
            page.goto(report.as_uri(), wait_until="load")
            # plotly.js draws each chart as its script runs; wait until every one has its SVG
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".every(chart => chart.querySelector('svg.main-svg') !== null)"
            )
            opened.charts = page.evaluate(CHART_MARKS)
            opened.sections = page.evaluate(SECTIONS)
            opened.declared_charts = int(page.locator("main").get_attribute("data-charts"))
            opened.tables = page.evaluate(TABLES)
            opened.contents_links = page.evaluate(CONTENTS_LINKS)
            _hover_first_scatter_point(page, opened)
            for number, section in enumerate(opened.sections, start=1):
                path = screenshots / f"{number:02d}-{section['id']}.png"
                page.locator(f"section#{section['id']}").screenshot(path=str(path))
                opened.screenshots.append(path)
        finally:
            browser.close()
    return opened


def _hover_first_scatter_point(page, opened: OpenedReport) -> None:
    """Move the mouse onto the first task of the cycle-time scatterplot, as a reader would."""
    point = page.locator(f"#{SCATTER} .scatterlayer .trace .points path.point").first
    point.scroll_into_view_if_needed()
    point.hover(force=True)  # plotly's drag layer lies over the points and takes the mouse
    label = page.locator(f"#{SCATTER} .hoverlayer .hovertext").first
    label.wait_for()
    opened.scatter_hover = label.text_content() or ""
    opened.scatter_label = page.evaluate(
        f"() => document.getElementById('{SCATTER}').data[0].customdata[0]"
    )


@pytest.fixture(scope="module")
def opened_report(demo_run, tmp_path_factory) -> OpenedReport:
    """The demo's latest report opened once in Chromium, with a screenshot of each section
    written to a folder that is printed."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    _, warehouse, summary = demo_run
    assert summary.success, f"the demo run failed, so it published no report: {summary.errors}"
    screenshots = tmp_path_factory.mktemp("report-screenshots")
    opened = open_report(warehouse / "reports" / "latest.html", screenshots)
    print(f"\nscreenshots of the report's sections: {screenshots}")
    return opened


def test_the_page_logs_no_error(opened_report):
    assert opened_report.console_errors == []
    assert opened_report.page_errors == []


def test_the_page_asks_the_network_for_nothing(opened_report):
    assert opened_report.requests == []


def test_every_declared_chart_is_drawn_with_data(opened_report):
    charts = opened_report.charts
    assert opened_report.declared_charts == len(charts) > 0
    for section in opened_report.sections:
        assert section["charts"] == section["declared"], section["id"]
    undrawn = [chart["id"] for chart in charts if not chart["svg"] or chart["marks"] == 0]
    assert undrawn == []
    # the charts of the flow practitioners' sections, each drawn
    drawn = {chart["id"] for chart in charts}
    assert {
        "chart-cumulative-flow",
        "chart-cycle-time-scatter",
        "chart-flow-efficiency",
        "chart-forecasts",
    } <= drawn


def test_every_table_is_filled(opened_report):
    assert opened_report.tables, "the demo report has tables"
    empty = [table for table in opened_report.tables if table["filled_rows"] == 0]
    assert empty == []
    assert all(table["filled_rows"] == table["rows"] for table in opened_report.tables)


def test_every_contents_link_leads_to_its_section(opened_report):
    links = opened_report.contents_links
    assert [link["href"] for link in links] == [
        f"#{section['id']}" for section in opened_report.sections
    ]
    assert all(link["target"] for link in links)


def test_hovering_a_scatterplot_point_names_its_task(opened_report):
    # the label is the task's key and title (escaped in the page's data, shown as text)
    label = html.unescape(opened_report.scatter_label)
    assert re.fullmatch(r"[a-z_]+:\S+( · .+)?", label), label
    assert opened_report.scatter_hover.startswith(label)
    assert " days, done " in opened_report.scatter_hover


def test_a_screenshot_per_section(opened_report):
    assert len(opened_report.screenshots) == len(opened_report.sections)
    for path in opened_report.screenshots:
        assert path.read_bytes().startswith(b"\x89PNG"), path


def test_without_chromium_the_reason_to_skip_names_the_path_and_the_remedy(tmp_path):
    absent = tmp_path / "chromium"
    assert chromium_missing_reason(absent) == (
        f"no Chromium at {absent}: `make chromium` installs Debian's chromium package "
        "(apt-get, as root); set OWH_CHROMIUM to use another Chromium"
    )
    absent.write_bytes(b"")
    assert chromium_missing_reason(absent) is None
