"""``owh``: the Outcome Warehouse command line.

Thin: every command calls the functions that Dagster runs.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.lib.layout import WarehouseLayout

app = typer.Typer(
    help="Outcome Warehouse: flow metrics joined to the outcomes the work is meant to move.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

LandingOption = Annotated[
    Path, typer.Option("--landing", help="Landing folder with the tracker exports and KPI files.")
]
WarehouseOption = Annotated[
    Path,
    typer.Option(
        "--warehouse", help="Warehouse folder: serving DuckDB file, Parquet marts, reports."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Date the run reports on (YYYY-MM-DD); default: today (UTC)."),
]

FullRefreshOption = Annotated[
    bool,
    typer.Option(
        "--full-refresh",
        help=(
            "Parse every landing file again; by default the raw rows of the files unchanged "
            "since the published warehouse was built are reused from it."
        ),
    ),
]
RunFullRefreshOption = Annotated[
    bool,
    typer.Option(
        "--full-refresh",
        help=(
            "Parse every landing file again and build every dbt model from nothing; by default "
            "the raw rows of the files unchanged since the published warehouse was built are "
            "reused from it, and the task history models rebuild only the tasks that changed."
        ),
    ),
]


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help=(
            "Where dbt builds: duckdb, or spark (a local Spark session, or the cluster of "
            "OWH_SPARK_PROFILES_DIR/profiles.yml; needs `make env-spark`; docs/spark.md)."
        ),
    ),
]

DEFAULT_LANDING = Path("data/landing")
DEFAULT_WAREHOUSE = Path("warehouse")


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option
        ) from None


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _print_event(kind: str, text: str) -> None:
    marks = {
        "start": "[cyan]…[/cyan]",
        "success": "[green]✓[/green]",
        "failure": "[red]✗[/red]",
        "check_error": "[red]✗ check failed[/red]",
        "check_warn": "[yellow]! check warned[/yellow]",
        "model": "[dim]· dbt[/dim]",
    }
    # the text carries data (status names, file names): never read as rich markup, never cut
    console.print(f"  {marks.get(kind, kind)} {escape(text)}", soft_wrap=True)


def _run(
    landing: Path,
    warehouse: Path,
    as_of: dt.date,
    *,
    demo: bool,
    full_refresh: bool = False,
    engine: Engine = Engine.duckdb,
) -> None:
    from pipelines.lib.pseudonymize import MissingPseudonymKeyError, pseudonym_key_from_env
    from pipelines.runner import run_nightly

    if not landing.is_dir():
        console.print(f"[red]error:[/red] landing folder {landing} does not exist")
        raise typer.Exit(2)
    try:
        pseudonym_key_from_env(demo=demo)
    except MissingPseudonymKeyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if engine is Engine.spark:
        from pipelines.lib.spark_engine import spark_available

        missing = spark_available()
        if missing is not None:
            console.print(f"[red]error:[/red] --engine spark: {missing}")
            raise typer.Exit(2)
    console.print(
        f"[bold]Building the warehouse[/bold] from {landing} into {warehouse} (as of {as_of}"
        f"{', dbt on Spark' if engine is Engine.spark else ''})"
    )
    summary = run_nightly(
        landing,
        warehouse,
        as_of=as_of,
        demo=demo,
        full_refresh=full_refresh,
        engine=engine.value,
        on_event=_print_event,
    )
    ingested = summary.ingest_line()
    if ingested:
        console.print(f"  ingest: {escape(ingested)}", soft_wrap=True)
    history = summary.task_history_line()
    if history:
        console.print(f"  task history: {escape(history)}", soft_wrap=True)
    slowest = summary.slowest()
    if slowest:
        timings = ", ".join(f"{escape(name)} {seconds:.1f} s" for name, seconds in slowest)
        console.print(f"  slowest: {timings}", soft_wrap=True)
    if summary.success:
        layout = WarehouseLayout(warehouse)
        console.print(
            f"[green bold]Published[/green bold] {layout.serving_file}, "
            f"{layout.marts_dir}/*.parquet and {layout.reports_dir / 'latest.html'} "
            f"in {summary.seconds:.0f} s (run {summary.run_id})."
        )
        return
    console.print(f"[red bold]Run {summary.run_id} failed[/red bold]: nothing was published.")
    for check in summary.failed_checks:
        # one line per check, never cut: operators copy the name into `dbt test --select`
        console.print(f"  blocking check failed: {escape(check)}", soft_wrap=True)
    for error in summary.errors:
        console.print(f"  {escape(error)}", soft_wrap=True)
    console.print(f"  dbt output: {summary.log_file}")
    console.print("  Details: `owh ui`, then open the run in the Dagster UI.")
    raise typer.Exit(1)


@app.command()
def demo(
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    tasks: Annotated[int, typer.Option(help="Number of tasks to generate.", min=50)] = 12_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    end_date: Annotated[
        str | None,
        typer.Option("--end-date", help="Last day of the demo history; default today (UTC)."),
    ] = None,
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Run the pipeline after generating.")
    ] = True,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Write a demo organisation's landing data, then run everything on it (demo pseudonym key)."""
    from pipelines.demo.generator import generate_demo

    end = _parse_date(end_date, "--end-date") or _today()
    with console.status(f"Generating {tasks:,} demo tasks into {landing}"):
        manifest = generate_demo(landing, tasks=tasks, seed=seed, end_date=end)
    console.print(
        f"[green]✓[/green] demo data: {manifest.tasks:,} tasks, "
        f"{len(manifest.teams)} teams, seed {seed}, up to {end}"
    )
    if run:
        _run(landing, warehouse, end, demo=True, engine=engine)


@app.command("run")
def run_command(
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    as_of: AsOfOption = None,
    full_refresh: RunFullRefreshOption = False,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Extract → ingest → dbt build with tests → report → publish, on a fresh build file.

    Ingestion parses only the landing files that are new or changed since the published
    warehouse was built, and reuses the raw rows of the others; the task history models start
    from the published tables and rebuild only the tasks whose landed rows changed.
    --full-refresh parses every file and builds every model from nothing.

    Needs OWH_PSEUDONYM_KEY in the environment: only `owh demo` uses the public demo key, whatever
    files a landing folder holds.
    """
    _run(
        landing,
        warehouse,
        _parse_date(as_of, "--as-of") or _today(),
        demo=False,
        full_refresh=full_refresh,
        engine=engine,
    )


@app.command()
def ingest(
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    full_refresh: FullRefreshOption = False,
) -> None:
    """Load the landing folder into a scratch file and show what was loaded and quarantined.

    Nothing is published: the scratch file is <warehouse>/ingest/warehouse.duckdb. As in
    `owh run`, files unchanged since the published warehouse was built are reused from it.
    """
    from pipelines.lib.duckdb_connection import connection
    from pipelines.lib.pseudonymize import MissingPseudonymKeyError, pseudonym_key_from_env
    from pipelines.sources.ingest import (
        ingest_definitions,
        ingest_impact,
        ingest_task_tracker,
        previous_build,
    )

    try:
        key = pseudonym_key_from_env(demo=False)
    except MissingPseudonymKeyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    scratch = WarehouseLayout(warehouse).ingest_scratch_file
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.unlink(missing_ok=True)
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    results = []
    serving = WarehouseLayout(warehouse).serving_file
    with (
        connection(
            scratch, allowed_directories=[landing.resolve()], allowed_files=[serving]
        ) as con,
        previous_build(con, serving, full_refresh=full_refresh) as previous,
    ):
        for label, load, kwargs in (
            ("task tracker exports", ingest_task_tracker, {"pseudonym_key": key}),
            ("business definitions", ingest_definitions, {}),
            ("impact data", ingest_impact, {"pseudonym_key": key}),
        ):
            with console.status(f"Loading {label}"):
                results.append(
                    load(
                        con,
                        landing.resolve(),
                        run_id="owh-ingest",
                        loaded_at=loaded_at,
                        previous=previous,
                        **kwargs,
                    )
                )
    table = Table(title=f"Loaded from {landing}")
    for column in ("table", "file", "status", "read", "loaded", "quarantined", "parsed by"):
        table.add_column(
            column, justify="right" if column in {"read", "loaded", "quarantined"} else "left"
        )
    warnings = []
    for result in results:
        warnings += result.warnings
        for f in result.files:
            table.add_row(
                f.table_name,
                f.source_file,
                f.status,
                str(f.rows_read),
                str(f.rows_loaded),
                str(f.rows_quarantined),
                f.run_id or "this run",
            )
    Console().print(table)
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    parsed = sum(result.files_parsed for result in results)
    reused = sum(result.files_reused for result in results)
    reasons = sorted({r.full_reload_reason for r in results if r.full_reload_reason})
    reload = f" (full reload: {'; '.join(reasons)})" if reasons else ""
    console.print(f"{parsed} files parsed, {reused} reused{escape(reload)}")
    console.print(f"Scratch file: {scratch} (raw.load_log, raw.quarantine)")


extract_app = typer.Typer(
    help="Pull a tracker's issues into the landing folder (incremental after the first pull).",
    no_args_is_help=True,
)
app.add_typer(extract_app, name="extract")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Sources file; default $OWH_CONFIG, else ./owh.yml if present."),
]
FullOption = Annotated[
    bool,
    typer.Option(
        "--full", help="Pull every issue again (issues deleted in the tracker then disappear)."
    ),
]


@extract_app.command("jira")
def extract_jira(
    url: Annotated[
        str | None, typer.Option(help="Jira site, e.g. https://acme.atlassian.net.")
    ] = None,
    jql: Annotated[str | None, typer.Option(help="Which issues, e.g. 'project = PAY'.")] = None,
    deployment: Annotated[
        str | None,
        typer.Option(
            help="cloud (OWH_JIRA_EMAIL + OWH_JIRA_API_TOKEN) or data_center (OWH_JIRA_PAT); "
            "default: from the variables set."
        ),
    ] = None,
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    full: FullOption = False,
    config: ConfigOption = None,
) -> None:
    """Jira Cloud (API v3) or Data Center (API v2): issues with their complete changelogs."""
    _extract("jira", config, landing, warehouse, full, url=url, jql=jql, deployment=deployment)


@extract_app.command("github")
def extract_github(
    repo: Annotated[str | None, typer.Option(help="Repository OWNER/NAME.")] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="API root; GitHub Enterprise: https://HOST/api/v3."),
    ] = None,
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    full: FullOption = False,
    config: ConfigOption = None,
) -> None:
    """GitHub issues (not pull requests) with their timelines; token from OWH_GITHUB_TOKEN."""
    _extract("github", config, landing, warehouse, full, repo=repo, api_url=api_url)


@extract_app.command("linear")
def extract_linear(
    team: Annotated[str | None, typer.Option(help="Team key, e.g. DATA.")] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="GraphQL endpoint of Linear.")
    ] = None,
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    full: FullOption = False,
    config: ConfigOption = None,
) -> None:
    """Linear issues with their complete history; key from OWH_LINEAR_API_KEY."""
    _extract("linear", config, landing, warehouse, full, team=team, api_url=api_url)


def _extract(
    source: str, config: Path | None, landing: Path, warehouse: Path, full: bool, **overrides
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from pipelines.extract.config import ConfigError, load_config
    from pipelines.extract.policy import ExtractError
    from pipelines.extract.sources import pull_source

    try:
        sources = load_config(config)
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}[/bold] {task.completed:,.0f} issues fetched"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"Pulling {source}", total=None)
            result = pull_source(
                source,
                sources,
                landing_dir=landing,
                warehouse_dir=warehouse,
                full=full,
                overrides=overrides,
                on_progress=lambda issues: progress.update(task, completed=issues),
            )
    except (ExtractError, ConfigError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    if result.folder is None:
        console.print(
            f"[green]✓[/green] {source}: no issue changed since the last pull "
            f"(updated since {result.since}); nothing written"
        )
        return
    kind = "full pull" if result.full else f"issues updated since {result.since}"
    console.print(
        f"[green]✓[/green] {source}: {result.issues:,} issues in {result.pages:,} "
        f"page{'s' if result.pages != 1 else ''} "
        f"({kind}) → {escape(str(result.folder))}; cursor now {result.cursor}",
        soft_wrap=True,
    )


@app.command()
def report(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    month: Annotated[
        str | None,
        typer.Option(
            help=(
                "Report month YYYY-MM; default the last complete month (the as-of month on its "
                "last day, else the month before). The month in progress only on request: "
                "labelled partial, it never replaces latest.html."
            )
        ),
    ] = None,
    as_of: AsOfOption = None,
) -> None:
    """Build the HTML report from the published warehouse into <warehouse>/reports/.

    Only the report of the last complete month replaces latest.html.
    """
    from pipelines.report.build import build_report
    from pipelines.report.period import ReportPeriod

    layout = WarehouseLayout(warehouse)
    serving = layout.serving_file
    if not serving.exists():
        console.print(f"[red]error:[/red] no published warehouse at {serving}: run `owh run` first")
        raise typer.Exit(2)
    report_month = _parse_date(f"{month}-01", "--month") if month else None
    report_as_of = _parse_date(as_of, "--as-of") or _today()
    try:
        period = ReportPeriod.resolve(report_as_of, report_month)
    except ValueError as refused:
        console.print(f"[red]error:[/red] {refused}")
        raise typer.Exit(2) from None
    result = build_report(serving, layout.reports_dir, as_of=report_as_of, month=period.month)
    for path in result.paths:
        console.print(f"[green]✓[/green] {path}")
    if period.is_partial:
        console.print(
            f"[yellow]note:[/yellow] {period.label} is not over: latest.html is left as it was"
        )


@app.command()
def check(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Findings of the last run of a warehouse folder: failed and warned checks, quarantined rows
    by reason, unmapped statuses.

    Exit status 1 when a blocking check failed or the run did not succeed, 2 when the folder has
    no recorded run, 0 otherwise.
    """
    import dagster as dg

    from pipelines.findings import findings_of_last_run
    from pipelines.runner import configure_environment, failing_rows_indented

    configure_environment(DEFAULT_LANDING, warehouse)
    findings = findings_of_last_run(dg.DagsterInstance.get(), warehouse)
    if findings is None:
        console.print(
            f"[red]error:[/red] no run recorded for warehouse folder {warehouse.resolve()} "
            f"in {os.environ['DAGSTER_HOME']}: run `owh run` first"
        )
        raise typer.Exit(2)
    out = Console()
    started = findings.started_at.strftime("%Y-%m-%d %H:%M UTC") if findings.started_at else "?"
    outcome = "published" if findings.published else "not published"
    out.print(
        f"[bold]Last run[/bold] {findings.run_id}: {findings.status.lower()}, {outcome} "
        f"(started {started}, as of {findings.as_of or '?'}); "
        f"{findings.checks_evaluated} checks evaluated"
    )
    for title, checks, colour in (
        ("Blocking checks failed", findings.failed_checks, "red"),
        ("Checks warned", findings.warned_checks, "yellow"),
    ):
        out.print(f"\n[bold {colour}]{title}: {len(checks)}[/bold {colour}]")
        for finding in checks:
            out.print(f"  {escape(finding.name)}", soft_wrap=True)
            if finding.description:
                out.print(f"      {escape(finding.description)}", soft_wrap=True)
            if finding.details:
                out.print(escape(failing_rows_indented(finding.details)), soft_wrap=True)
    quarantined = sum(count.rows for count in findings.quarantine)
    out.print(f"\n[bold]Quarantined rows: {quarantined:,}[/bold]")
    for count in findings.quarantine:
        # one line each, never wrapped into a table cell: a reason can be long
        out.print(
            f"  {count.table_name}: {count.rows:,} row(s): {escape(count.reason)}", soft_wrap=True
        )
    out.print(f"\n[bold]Unmapped statuses: {len(findings.unmapped_statuses)}[/bold]")
    for row in findings.unmapped_statuses:
        out.print("  " + escape(", ".join(f"{k}={v}" for k, v in row.items())), soft_wrap=True)
    if findings.database_file:
        out.print(f"\nRead from {findings.database_file}")
    if findings.blocking_check_failed or findings.status != "SUCCESS":
        raise typer.Exit(1)


metrics_app = typer.Typer(
    help=(
        "The semantic layer's metrics (MetricFlow), from the published warehouse opened "
        "read-only: safe while a nightly run builds the next one."
    ),
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")


def _split_names(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


@metrics_app.command("list")
def metrics_list(warehouse: WarehouseOption = DEFAULT_WAREHOUSE) -> None:
    """Every metric with its type, definition and the names it can be grouped by."""
    from pipelines.metrics.engine import MetricsClient, MetricsError

    try:
        with MetricsClient.open(WarehouseLayout(warehouse).serving_file) as client:
            metrics = client.list_metrics()
            saved_queries = client.saved_query_names()
    except MetricsError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    out = Console()
    for metric in metrics:
        out.print(f"[bold]{metric.name}[/bold] ({metric.type}): {escape(metric.description)}")
        out.print(f"    group by: {', '.join(metric.group_bys)}", soft_wrap=True)
    out.print(f"\n[bold]Saved queries[/bold]: {', '.join(saved_queries)}")


@metrics_app.command("query")
def metrics_query(
    metrics: Annotated[
        str | None, typer.Option("--metrics", help="Metrics, comma-separated: throughput,wip.")
    ] = None,
    group_by: Annotated[
        str | None,
        typer.Option("--group-by", help="Group-by names, comma-separated: metric_time__week,team."),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="A MetricFlow filter, e.g. \"{{ Entity('team') }} = 'Payments'\" (repeatable).",
        ),
    ] = None,
    saved_query: Annotated[
        str | None, typer.Option("--saved-query", help="A saved query instead of --metrics.")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the rows to this CSV file.")
    ] = None,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL it ran.")] = False,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Query metrics grouped by time (metric_time__day/week/month/quarter/year) and dimensions."""
    from pipelines.metrics.engine import MetricsClient, MetricsError

    if (metrics is None) == (saved_query is None):
        console.print("[red]error:[/red] name either --metrics or --saved-query")
        raise typer.Exit(2)
    try:
        with MetricsClient.open(WarehouseLayout(warehouse).serving_file) as client:
            result = client.query(
                _split_names(metrics),
                _split_names(group_by),
                where=where or (),
                saved_query=saved_query,
            )
    except MetricsError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if show_sql:
        console.print(escape(result.sql), soft_wrap=True)
    if csv is not None:
        result.frame.to_csv(csv, index=False)
        console.print(f"[green]✓[/green] {len(result.frame):,} rows → {escape(str(csv))}")
        return
    table = Table()
    for column in result.frame.columns:
        table.add_column(str(column))
    for row in result.frame.itertuples(index=False):
        table.add_row(*("" if value is None or value != value else str(value) for value in row))
    Console().print(table)


@app.command()
def ui(
    landing: LandingOption = DEFAULT_LANDING,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Start the Dagster UI (and daemon: schedule, sensor, run queue) on dagster_home/."""
    from pipelines.runner import configure_environment

    configure_environment(landing, warehouse)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "pipelines.definitions",
        "-p",
        str(port),
    ]
    console.print(
        f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    raise typer.Exit(subprocess.call(command))


def main() -> None:
    """The ``owh`` command: the command line, then a quick exit.

    After ``owh run``, tearing the interpreter down (freeing some 600,000 objects: Dagster's
    definitions, dbt's manifest, the report's frames) took about 2 s of a 33 s demo run. When the
    command has returned, its files are closed and its work is done, so the process ends without
    that teardown: it waits for any thread still running, runs the exit handlers and flushes its
    output, as a normal exit would, and then leaves at once with the command's exit status.
    """
    try:
        app()
    except SystemExit as exc:
        status = exc.code
    else:
        status = 0
    if isinstance(status, str):  # sys.exit("message"): printed, exit status 1
        print(status, file=sys.stderr)
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status or 0)


if __name__ == "__main__":
    main()
