"""Hostile text is data, never code: it round-trips unchanged and executes nothing.

Status names, titles, team and project names, KPI names and outcome statements are typed by
people in trackers and spreadsheets, so they can hold anything: quotes, backslashes, SQL
comments and terminators, text that looks like a Jinja template or a bind placeholder, newlines,
markup. Every such value must reach the raw tables byte for byte (values that reach SQL are bound,
never spliced into it), must not change what an ingest does (no table dropped or created, no row
quarantined), and must reach the HTML report escaped, so that a browser shows it instead of
running it. Landing paths and file names are treated the same way: lineage columns hold them as
written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pytest
from markupsafe import Markup

from pipelines.lib.duckdb_connection import connect, connection
from pipelines.lib.landing import UnsafeLandingPathError, list_landing_files
from pipelines.report import build_report
from pipelines.report.build import render_page
from pipelines.report.context import Section
from pipelines.report.fragments import (
    Column,
    Figure,
    data_table,
    figure_tiles,
    notice,
    status_badge,
)
from pipelines.report.period import ReportPeriod
from pipelines.report.queries import OrganisationFigures
from pipelines.sources.ingest import (
    IngestResult,
    ingest_definitions,
    ingest_impact,
    ingest_task_tracker,
)
from tests.unit.test_report import AS_OF, body_rows, section, seed_marts

KEY = b"hostile-input-key"
LOADED_AT = dt.datetime(2026, 10, 1, 6, 0)

# Each value breaks at least one of: a query that pastes it into SQL text, a template rendered
# twice, a naive CSV writer, a parser that unescapes backslashes or splits lines. None starts or
# ends with a space: the canonical loader trims values on purpose, which is not tested here.
HOSTILE: tuple[str, ...] = (
    'it\'s "done"',
    "back\\slash \\n \\' \\\" \\\\",
    "a; b -- c /* d */ e",
    "'); drop table raw.tasks; --",
    '"); drop table raw.tasks; --',
    "{{ var('x') }} {% if true %}jinja{% endif %} {# note #}",
    "$1 ? :name $name %s",
    "line one\nline two\r\nline three",
    "Ünïcødé ✓ 日本語",
)

RAW_TABLES = (
    "confidence_surveys",
    "ingest_state",
    "ingest_warnings",
    "kpi_observations",
    "kpis",
    "load_log",
    "outcomes",
    "quarantine",
    "task_flags",
    "task_status_changes",
    "tasks",
    "workstream_rules",
    "workstreams",
)

# A markup payload for the report: a script element, and a quote that would end an attribute.
MARKUP = '<script>alert(1)</script>"onmouseover="x'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onmouseover=&#34;x"
# The same payload as a chart label: "<" and ">" as entities (plotly.js reads a few HTML tags in
# labels and shows entities as their characters), inside plotly's JSON ("/" as a \u escape, the
# quotes as \").
CHART_ESCAPED = '&lt;script&gt;alert(1)&lt;\\u002fscript&gt;\\"onmouseover=\\"x'


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A CSV file as a spreadsheet writes it: fields quoted when needed, quotes doubled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def ingest_all(con, landing: Path) -> tuple[IngestResult, IngestResult, IngestResult]:
    return (
        ingest_task_tracker(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY),
        ingest_definitions(con, landing, run_id="run-1", loaded_at=LOADED_AT),
        ingest_impact(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY),
    )


def row_counts(con) -> dict[str, int]:
    """Rows of every raw table; also fails if any of them has been dropped."""
    return {
        table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        for table in RAW_TABLES
    }


def database_tables(con) -> list[tuple[str, str]]:
    """Every table of the database, temporary ones included: nothing created, nothing dropped."""
    return con.execute(
        "select schema_name, table_name from duckdb_tables() order by all"
    ).fetchall()


def rows_of(con, table: str, columns: str) -> list[tuple]:
    return con.execute(f"select {columns} from raw.{table} order by _source_row").fetchall()


def canonical_landing(root: Path) -> Path:
    """One file per raw table; row i carries HOSTILE[i] in every free-text column."""
    numbered = list(enumerate(HOSTILE, start=1))
    write_csv(
        root / "tasks" / "tasks.csv",
        ["source", "task_id", "title", "task_type", "created_at", "status", "team", "project",
         "priority", "resolution", "url"],
        [["linear", f"T-{i}", text, text, "2026-09-01T09:00:00Z", text, text, text, text, text,
          text] for i, text in numbered],
    )  # fmt: skip
    write_csv(
        root / "task_status_changes" / "changes.csv",
        ["source", "task_id", "changed_at", "from_status", "to_status", "sequence"],
        [
            ["linear", f"T-{i}", "2026-09-02T09:00:00Z", text, HOSTILE[i - 2], "1"]
            for i, text in numbered
        ],
    )
    write_csv(
        root / "task_flags" / "flags.csv",
        ["source", "task_id", "flagged_at", "unflagged_at", "reason"],
        [["linear", f"T-{i}", "2026-09-03T09:00:00Z", "", text] for i, text in numbered],
    )
    write_csv(
        root / "kpis" / "kpis.csv",
        ["kpi_id", "name", "unit", "area", "aggregation", "direction", "cadence_days"],
        [[f"K-{i}", text, text, "business", "avg", "increase", "7"] for i, text in numbered],
    )
    write_csv(
        root / "outcomes" / "outcomes.csv",
        ["outcome_id", "statement", "kpi_id", "baseline_value", "baseline_on", "target_value",
         "target_on", "owner"],
        [[f"O-{i}", text, f"K-{i}", "5", "2026-07-01", "2", "2026-12-31", text]
         for i, text in numbered],
    )  # fmt: skip
    write_csv(
        root / "workstreams" / "workstreams.csv",
        ["workstream_id", "name", "outcome_id", "hypothesis"],
        [[f"W-{i}", text, f"O-{i}", text] for i, text in numbered],
    )
    write_csv(
        root / "workstream_rules" / "rules.csv",
        ["workstream_id", "priority", "source", "project", "epic_id", "label"],
        [[f"W-{i}", str(i), text, text, text, text] for i, text in numbered],
    )
    write_csv(
        root / "kpi_observations" / "observations.csv",
        ["kpi_id", "observed_on", "value", "segment", "unit"],
        [[text, "2026-09-01", "1.5", text, text] for _, text in numbered],
    )
    write_csv(
        root / "confidence_surveys" / "survey.csv",
        ["outcome_id", "answered_on", "dimension", "score"],
        [[text, "2026-09-15", "readiness", "4"] for _, text in numbered],
    )
    return root


def test_hostile_text_in_canonical_csv_files_lands_unchanged_and_runs_nothing(tmp_path):
    """Every free-text column of every canonical table, through DuckDB's CSV reader and the
    validating SQL: the raw value equals the written one, no row is quarantined, and the
    database holds exactly the raw tables it held before (none dropped, none created)."""
    landing = canonical_landing(tmp_path / "landing")
    con = connect(allowed_directories=[landing])
    tracker, definitions, impact = ingest_all(con, landing)

    every = [(text,) for text in HOSTILE]
    assert rows_of(con, "tasks", "title, task_type, status, team, project, priority, "
                   "resolution, url") == [(text,) * 8 for text in HOSTILE]  # fmt: skip
    assert rows_of(con, "task_status_changes", "from_status, to_status") == [
        (text, HOSTILE[i - 1]) for i, text in enumerate(HOSTILE)
    ]
    assert rows_of(con, "task_flags", "reason") == every
    assert rows_of(con, "kpis", "name, unit") == [(text, text) for text in HOSTILE]
    assert rows_of(con, "outcomes", "statement, owner") == [(text, text) for text in HOSTILE]
    assert rows_of(con, "workstreams", "name, hypothesis") == [(text, text) for text in HOSTILE]
    assert rows_of(con, "workstream_rules", "source, project, epic_id, label") == [
        (text,) * 4 for text in HOSTILE
    ]
    assert rows_of(con, "kpi_observations", "kpi_id, segment, unit") == [
        (text,) * 3 for text in HOSTILE
    ]
    assert rows_of(con, "confidence_surveys", "outcome_id") == every

    assert row_counts(con) == {
        "confidence_surveys": 9,
        "ingest_state": 12,  # four fingerprints for each of the three ingests
        "ingest_warnings": 9,
        "kpi_observations": 9,
        "kpis": 9,
        "load_log": 9,
        "outcomes": 9,
        "quarantine": 0,
        "task_flags": 9,
        "task_status_changes": 9,
        "tasks": 9,
        "workstream_rules": 9,
        "workstreams": 9,
    }
    assert database_tables(con) == [("raw", table) for table in RAW_TABLES]
    assert con.execute(
        "select distinct status, rows_read, rows_loaded, rows_quarantined from raw.load_log"
    ).fetchall() == [("loaded", 9, 9, 0)]
    # A newline inside a quoted field is a record spanning lines: the only warning there is.
    spans = (
        ": a quoted field spans lines or the file is not valid UTF-8, so row and line numbers "
        "count records rather than physical lines"
    )
    assert tracker.warnings == [
        f"tasks/tasks.csv{spans}",
        f"task_status_changes/changes.csv{spans}",
        f"task_flags/flags.csv{spans}",
    ]
    assert definitions.warnings == [
        f"kpis/kpis.csv{spans}",
        f"outcomes/outcomes.csv{spans}",
        f"workstreams/workstreams.csv{spans}",
        f"workstream_rules/rules.csv{spans}",
    ]
    assert impact.warnings == [
        f"kpi_observations/observations.csv{spans}",
        f"confidence_surveys/survey.csv{spans}",
    ]


def jira_issue(position: int, text: str) -> dict:
    """An issue whose every free-text field, status transition and flag reason is ``text``."""
    return {
        "id": str(90000 + position),
        "key": f"OWH-{position}",
        "self": text,
        "fields": {
            "summary": text,
            "issuetype": {"name": text, "subtask": False},
            "status": {"name": text},
            "created": "2026-09-01T09:00:00.000+0000",
            "project": {"key": text},
            "labels": [text],
            "priority": {"name": text},
            "resolution": {"name": text},
            "customfield_10300": text,
        },
        "changelog": {
            "startAt": 0,
            "maxResults": 2,
            "total": 2,
            "histories": [
                {
                    "id": "1",
                    "created": "2026-09-02T09:00:00.000+0000",
                    "items": [
                        {
                            "field": "status",
                            "fromString": text,
                            "toString": HOSTILE[position - 2],
                        }
                    ],
                },
                {
                    "id": "2",
                    "created": "2026-09-03T09:00:00.000+0000",
                    "items": [{"field": "Flagged", "fromString": None, "toString": text}],
                },
            ],
        },
    }


@pytest.mark.parametrize("ensure_ascii", [False, True], ids=["utf-8", "json-escapes"])
def test_hostile_text_in_a_jira_export_lands_unchanged_and_runs_nothing(tmp_path, ensure_ascii):
    """Through the Jira adapter (parsed in Python, inserted from a DataFrame by name): the raw
    values equal the export's strings, written as UTF-8 or as JSON \\u escapes alike."""
    landing = tmp_path / "landing"
    (landing / "jira").mkdir(parents=True)
    page = {"startAt": 0, "total": len(HOSTILE), "issues": []}
    page["issues"] = [jira_issue(i, text) for i, text in enumerate(HOSTILE, start=1)]
    (landing / "jira" / "page.json").write_text(
        json.dumps(page, ensure_ascii=ensure_ascii), encoding="utf-8"
    )
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )

    assert rows_of(
        con,
        "tasks",
        "title, task_type, status, project, labels, priority, resolution, workstream_id, url",
    ) == [(text, text, text, text, [text], text, text, text, text) for text in HOSTILE]
    assert rows_of(con, "task_status_changes", "from_status, to_status") == [
        (text, HOSTILE[i - 1]) for i, text in enumerate(HOSTILE)
    ]
    assert rows_of(con, "task_flags", "reason") == [(text,) for text in HOSTILE]
    assert result.rows_loaded == {"tasks": 9, "task_status_changes": 9, "task_flags": 9}
    assert result.rows_quarantined == {"tasks": 0, "task_status_changes": 0, "task_flags": 0}
    assert result.warnings == []
    assert row_counts(con) == {
        "confidence_surveys": 0,
        "ingest_state": 4,
        "ingest_warnings": 0,
        "kpi_observations": 0,
        "kpis": 0,
        "load_log": 3,
        "outcomes": 0,
        "quarantine": 0,
        "task_flags": 9,
        "task_status_changes": 9,
        "tasks": 9,
        "workstream_rules": 0,
        "workstreams": 0,
    }
    assert database_tables(con) == [("raw", table) for table in RAW_TABLES]


def test_a_landing_folder_and_file_names_with_quotes_and_spaces_ingest_as_written(tmp_path):
    """The landing path reaches DuckDB as a bound value (``read_csv($path)``, the allowed
    directories as a bound list), and file names reach the lineage columns and the load log
    unchanged: a quote, a space or a semicolon in them neither breaks nor alters an ingest."""
    landing = tmp_path / 'it\'s "here"; drop' / "landing"
    csv_name = 'it\'s "tasks"; drop table raw.tasks; --.csv'
    json_name = "page '1' $1 ?.json"
    write_csv(
        landing / "tasks" / csv_name,
        ["source", "task_id", "title", "task_type", "created_at", "status"],
        [["linear", "T-1", "Ship it", "story", "2026-09-01T09:00:00Z", "Done"]],
    )
    issue = jira_issue(1, "Done")
    (landing / "jira").mkdir()
    (landing / "jira" / json_name).write_text(json.dumps({"issues": [issue]}), encoding="utf-8")
    con = connect(allowed_directories=[landing])
    result = ingest_task_tracker(
        con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY
    )

    assert con.execute(
        "select _source, task_id, _source_file from raw.tasks order by all"
    ).fetchall() == [
        ("canonical", "T-1", f"tasks/{csv_name}"),
        ("jira", "OWH-1", f"jira/{json_name}"),
    ]
    assert con.execute(
        "select table_name, source_file, status, rows_loaded from raw.load_log order by all"
    ).fetchall() == [
        ("task_flags", f"jira/{json_name}", "loaded", 1),
        ("task_status_changes", f"jira/{json_name}", "loaded", 1),
        ("tasks", f"jira/{json_name}", "loaded", 1),
        ("tasks", f"tasks/{csv_name}", "loaded", 1),
    ]
    assert result.warnings == []
    assert database_tables(con) == [("raw", table) for table in RAW_TABLES]


@pytest.mark.parametrize("folder", ["/etc", "tasks/..", "..", "tasks/sub"])
def test_a_folder_name_that_is_a_path_is_refused(tmp_path, folder):
    """Only a plain folder name is joined to the landing folder: an absolute path or one with
    a separator never is (``../tasks`` is covered in test_ingest.py)."""
    landing = tmp_path / "landing"
    (landing / "tasks" / "sub").mkdir(parents=True)
    with pytest.raises(UnsafeLandingPathError, match="is not a plain folder name"):
        list_landing_files(landing, folder, ("*.csv",))


def test_a_relative_symlink_climbing_out_of_the_landing_folder_is_refused(tmp_path):
    """A link written as ``../../secret.csv`` escapes through ``..`` rather than an absolute
    target; it is refused before any file is read, so the raw tables stay empty."""
    (tmp_path / "secret.csv").write_text("source,task_id,title,task_type,created_at,status\n")
    landing = tmp_path / "landing"
    (landing / "tasks").mkdir(parents=True)
    os.symlink("../../secret.csv", landing / "tasks" / "up.csv")
    con = connect(allowed_directories=[landing])
    with pytest.raises(UnsafeLandingPathError, match=r"landing path tasks/up\.csv resolves to"):
        ingest_task_tracker(con, landing, run_id="run-1", loaded_at=LOADED_AT, pseudonym_key=KEY)
    assert con.execute("select count(*) from raw.tasks").fetchall() == [(0,)]


def test_report_fragments_escape_markup_in_text_and_attributes():
    """The building blocks every section uses: text goes in escaped whether it lands between
    tags or inside an attribute, so a quote cannot end the attribute and add a handler."""
    assert data_table(
        [Column(f"Team {MARKUP}"), Column("Tasks", numeric=True)], [(f"Team {MARKUP}", 3)]
    ) == Markup(
        '<div class="table-wrap"><table><thead><tr>'
        f'<th>Team {ESCAPED}</th><th class="num">Tasks</th></tr></thead><tbody><tr>'
        f'<td>Team {ESCAPED}</td><td class="num">3</td></tr></tbody></table></div>'
    )
    assert status_badge(f"status {MARKUP}") == Markup(
        f'<span class="badge status-status {ESCAPED}">status {ESCAPED}</span>'
    )
    assert notice(MARKUP) == Markup(f'<p class="notice">{ESCAPED}</p>')
    assert figure_tiles([Figure(MARKUP, MARKUP, MARKUP)]) == Markup(
        f'<div class="tiles"><div class="tile" data-figure="{ESCAPED}">'
        f'<div class="tile-value">{ESCAPED}</div><div class="tile-label">{ESCAPED}</div>'
        "</div></div>"
    )


def test_the_page_template_autoescapes_what_sections_hand_it():
    """The Jinja environment autoescapes: a section's anchor, title and how-to-read line are
    plain strings and come out escaped; only the body, already Markup, goes in as it is."""
    page = render_page(
        ReportPeriod.resolve(AS_OF),
        OrganisationFigures(
            teams=1, tasks=1, completed_in_month=0, wip=None, wip_on=None, outcomes=0
        ),
        [
            Section(
                anchor=f"a{MARKUP}",
                title=f"Title {MARKUP}",
                how_to_read=f"Read {MARKUP}",
                body=Markup("<p>body</p>"),
            )
        ],
    )
    assert f'<li><a href="#a{ESCAPED}">Title {ESCAPED}</a></li>' in page
    assert (
        f'<section class="report-section" id="a{ESCAPED}" data-charts="0">\n'
        f'    <h2><span class="number">1.</span>Title {ESCAPED}</h2>\n'
        f'    <p class="how-to-read"><strong>How to read this:</strong> Read {ESCAPED}</p>\n'
        "    <p>body</p>\n"
    ) in page
    assert "<script>alert" not in page
    assert '"onmouseover=' not in page


def test_the_report_escapes_hostile_outcome_kpi_team_and_status_names(tmp_path):
    """End to end from the marts: an outcome statement, KPI name, owner, review text, team
    name, task status and outcome status holding markup are shown escaped in tables, cards and
    badges, and as JSON escapes inside the charts' scripts; the page holds the raw payload
    nowhere."""
    warehouse = seed_marts(tmp_path / "warehouse.duckdb")
    team = f"Alpha {MARKUP}"
    with connection(warehouse) as con:
        con.execute(
            "update marts.dim_outcomes set statement = ?, kpi_name = ?, owner = ? "
            "where outcome_id = 'O-INV'",
            [f"Statement {MARKUP}", f"KPI {MARKUP}", f"Owner {MARKUP}"],
        )
        con.execute(
            "update marts.mart_outcome_review set statement = ?, what_moved = ? "
            "where outcome_id = 'O-INV'",
            [f"Statement {MARKUP}", f"Moved {MARKUP}"],
        )
        con.execute(
            "update marts.mart_outcome_recommendations set recommendation = ? "
            "where rule_id = 'investigate_illusion'",
            [f"Advice {MARKUP}"],
        )
        for table in (
            "fct_tasks",
            "mart_wip_daily",
            "mart_flow_weekly",
            "mart_aging_wip",
            "mart_aging_wip_by_team",
            "mart_quality_monthly",
            "mart_unlinked_work",
        ):
            con.execute(f"update marts.{table} set team = ? where team = 'Alpha'", [team])
        con.execute(
            "update marts.mart_aging_wip set current_status = ? where task_id = 'A-3'",
            [f"Status {MARKUP}"],
        )
        con.execute(
            "update marts.mart_outcome_progress set status = ? "
            "where outcome_id = 'O-ADO' and month = date '2026-10-01'",
            [f"status {MARKUP}"],
        )
    page = build_report(warehouse, tmp_path / "reports", as_of=AS_OF).paths[0].read_text()

    assert "<script>alert" not in page
    # every quote around the handler is escaped: &#34; in HTML, \" inside a script's JSON
    handlers = re.findall(r'(&#34;|\\")onmouseover=(&#34;|\\")x', page)
    assert len(handlers) == page.count("onmouseover") > 0
    assert sorted(set(handlers)) == [("&#34;", "&#34;"), ('\\"', '\\"')]
    outcomes = section(page, "outcomes")
    assert [row[:2] for row in body_rows(outcomes)] == [
        [f"Statement {ESCAPED}", f"KPI {ESCAPED} (lower is better)"],
        ["Raise self-service adoption from 20% to 60%", "Self-service share (higher is better)"],
    ]
    assert f"<h3>Statement {ESCAPED}</h3>" in outcomes
    assert (
        f'<p class="muted">KPI: KPI {ESCAPED} (lower is better) · owner: Owner {ESCAPED}</p>'
    ) in outcomes
    assert (
        outcomes.count(f'<span class="badge status-status {ESCAPED}">status {ESCAPED}</span>') == 2
    )  # in the O-ADO table row and on its card
    review = body_rows(section(page, "review"))
    assert f'<span class="muted">Statement {ESCAPED}</span>' in review[0][0]
    assert review[0][1] == f"Moved {ESCAPED}"
    assert f"<strong>Advice {ESCAPED}</strong>" in review[0][3]
    aging = section(page, "aging")
    assert body_rows(aging[aging.index("</script>") :])[0][:3] == [
        "A-3",
        f"Alpha {ESCAPED}",
        f"Status {ESCAPED}",
    ]
    unlinked = section(page, "unlinked")
    assert body_rows(unlinked[unlinked.index("</script>") :])[0][0] == f"Alpha {ESCAPED}"
    # Charts carry the team name inside <script>, as JSON, with its markup as entities: in the
    # legend, the panel title and the hover text alike.
    throughput = section(page, "throughput")
    assert f'"name":"Alpha {CHART_ESCAPED}"' in throughput
    assert f'"text":"Alpha {CHART_ESCAPED}"' in throughput
    assert f"\\u003cextra\\u003eAlpha {CHART_ESCAPED}\\u003c\\u002fextra\\u003e" in throughput
