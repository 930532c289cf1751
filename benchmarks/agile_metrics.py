"""jira-agile-metrics side by side with us: its cycle times for the same demo issues.

jira-agile-metrics lives in its own virtual environment (``bench/jira-agile-metrics/venv``,
created with the system ``python3`` from the pinned ``jira-agile-metrics-requirements.txt``), so
its old pandas never meets ours. Its input is every task of a demo landing folder as Jira search
pages: the demo's Jira pages as exported, and the Linear tasks written in the same shape (status
changes and flags as changelog items), each with the ``resolutiondate`` its calculator reads.
``agile_metrics_driver.py`` then times, in that environment, loading the pages into
``jira`` issue objects and running ``CycleTimeCalculator``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from measure import run_measured

BENCHMARKS = Path(__file__).resolve().parent
REQUIREMENTS = BENCHMARKS / "jira-agile-metrics-requirements.txt"
DRIVER = BENCHMARKS / "agile_metrics_driver.py"
STATUS_SEED = BENCHMARKS.parent / "seeds" / "status_categories.csv"
PAGE_SIZE = 500
STAMP = ".requirements-sha256"


@dataclass(frozen=True)
class AgileMetricsRun:
    """What the calculator cost on the pages, or why it could not run."""

    issues: int = 0
    with_cycle_time: int = 0
    load_seconds: float = 0.0
    calculate_seconds: float = 0.0
    peak_mib: float = 0.0
    failure: str | None = None

    @property
    def seconds(self) -> float:
        return self.load_seconds + self.calculate_seconds


def ensure_environment(folder: Path) -> tuple[Path | None, str | None]:
    """(the environment's python, None), installed once per requirements file; or (None, why)."""
    python = folder / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = folder / STAMP
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python, None
    system_python = shutil.which("python3")
    if system_python is None:
        return None, "no python3 on PATH to create its environment with"
    shutil.rmtree(folder, ignore_errors=True)
    for command in (
        [system_python, "-m", "venv", str(folder)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r",
         str(REQUIREMENTS)],
    ):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"`{' '.join(command[-3:])}` failed: {' / '.join(last)}"
    stamp.write_text(digest)
    return python, None


def status_categories() -> dict[str, list[tuple[str, str, int]]]:
    """category -> (status, workflow column, column order) for every row of the status seed."""
    rows: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    with STATUS_SEED.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["category"]].append(
                (row["status"], row["workflow_column"], int(row["column_order"]))
            )
    return rows


def cycle_config() -> list[dict]:
    """The calculator's cycle, from the status seed, so that it measures what we measure.

    Backlog holds every to-do status; one accepted step per workflow column of the in-progress
    and waiting statuses, in board order (its cycle time starts at the first of them, as ours
    starts at the first in-progress or waiting status); Done holds the done statuses. Cancelled
    statuses are left out: a cancelled task has no cycle time there either.
    """
    categories = status_categories()
    columns: dict[tuple[int, str], set[str]] = defaultdict(set)
    for category in ("in_progress", "waiting"):
        for status, column, order in categories[category]:
            columns[(order, column)].add(status)
    cycle = [{"name": "Backlog", "statuses": _names(categories["todo"]), "type": "backlog"}]
    cycle += [
        {"name": column, "statuses": sorted(statuses), "type": "accepted"}
        for (_, column), statuses in sorted(columns.items())
    ]
    cycle.append({"name": "Done", "statuses": _names(categories["done"]), "type": "complete"})
    return cycle


def _names(rows: list[tuple[str, str, int]]) -> list[str]:
    return sorted({status for status, _, _ in rows})


def resolution_date(issue: dict, done_statuses: set[str]) -> str | None:
    """When a done issue last entered a done status (its changelog), else None."""
    if issue["fields"]["status"]["name"].lower() not in done_statuses:
        return None
    entered = [
        history["created"]
        for history in issue.get("changelog", {}).get("histories", [])
        for item in history["items"]
        if item["field"] == "status" and (item.get("toString") or "").lower() in done_statuses
    ]
    return entered[-1] if entered else None


def read_csv_rows(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def canonical_issues(landing: Path, first_id: int) -> list[dict]:
    """The tasks of the canonical CSV files (the demo's Linear export) as Jira issues."""
    changes: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in read_csv_rows(landing / "task_status_changes"):
        changes[(row["source"], row["task_id"])].append(row)
    flags: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in read_csv_rows(landing / "task_flags"):
        flags[(row["source"], row["task_id"])].append(row)
    issues = []
    for number, task in enumerate(read_csv_rows(landing / "tasks"), start=first_id):
        key = (task["source"], task["task_id"])
        histories = _status_histories(changes.get(key, [])) + _flag_histories(flags.get(key, []))
        issues.append(
            {
                "id": str(number),
                "key": task["task_id"],
                "fields": {
                    "summary": task["title"],
                    "issuetype": {"name": task["task_type"]},
                    "status": {"name": task["status"]},
                    "resolution": {"name": task["resolution"]} if task["resolution"] else None,
                    "created": task["created_at"],
                    "updated": task["updated_at"] or None,
                    "customfield_10021": None,
                },
                "changelog": {
                    "startAt": 0,
                    "maxResults": len(histories),
                    "total": len(histories),
                    "histories": histories,
                },
            }
        )
    return issues


def _status_histories(rows: list[dict]) -> list[dict]:
    ordered = sorted(rows, key=lambda row: int(row["sequence"] or 0))
    return [
        {
            "created": row["changed_at"],
            "items": [
                {
                    "field": "status",
                    "fromString": row["from_status"] or None,
                    "toString": row["to_status"],
                }
            ],
        }
        for row in ordered
    ]


def _flag_histories(rows: list[dict]) -> list[dict]:
    histories = []
    for row in rows:
        item = {"field": "Flagged", "fromString": None, "toString": row["reason"]}
        histories.append({"created": row["flagged_at"], "items": [item]})
        if row["unflagged_at"]:
            item = {"field": "Flagged", "fromString": row["reason"], "toString": ""}
            histories.append({"created": row["unflagged_at"], "items": [item]})
    return histories


def write_pages(landing: Path, pages: Path) -> int:
    """Every task of ``landing`` as Jira search pages in ``pages``; return how many issues."""
    shutil.rmtree(pages, ignore_errors=True)
    pages.mkdir(parents=True)
    issues = []
    for page in sorted((landing / "jira").glob("search-*.json")):
        issues += json.loads(page.read_text(encoding="utf-8"))["issues"]
    issues += canonical_issues(landing, first_id=10_000_000)
    done_statuses = {status.lower() for status in _names(status_categories()["done"])}
    for issue in issues:
        issue["fields"].setdefault("resolutiondate", resolution_date(issue, done_statuses))
    for start in range(0, len(issues), PAGE_SIZE):
        payload = {"startAt": start, "maxResults": PAGE_SIZE, "total": len(issues)}
        payload["issues"] = issues[start : start + PAGE_SIZE]
        path = pages / f"search-{start // PAGE_SIZE + 1:04d}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
    return len(issues)


def run_agile_metrics(landing: Path, scratch: Path, as_of: str) -> AgileMetricsRun:
    """Install (once), convert ``landing``'s tasks, and time the calculator on them."""
    python, failure = ensure_environment(scratch / "venv")
    if python is None:
        return AgileMetricsRun(failure=f"jira-agile-metrics could not be installed: {failure}")
    write_pages(landing, scratch / "pages")
    config = scratch / "cycle.json"
    config.write_text(json.dumps(cycle_config(), indent=1), encoding="utf-8")
    command = [str(python), str(DRIVER), "--pages", str(scratch / "pages")]
    command += ["--config", str(config), "--now", as_of]
    measured = run_measured(
        command,
        env={**os.environ, "MPLCONFIGDIR": str(scratch / "matplotlib")},
        cwd=scratch,
        classify=lambda line: "calculate" if line == "calculator started" else None,
        first_stage="load",
    )
    values = dict(line.split(": ", 1) for line in measured.lines if ": " in line)
    if measured.return_code != 0 or "calculate seconds" not in values:
        tail = " / ".join(measured.lines[-3:])
        failure = f"its calculator failed (exit {measured.return_code}): {tail}"
        return AgileMetricsRun(failure=failure)
    return AgileMetricsRun(
        issues=int(values["issues"]),
        with_cycle_time=int(values["with cycle time"]),
        load_seconds=float(values["load seconds"]),
        calculate_seconds=float(values["calculate seconds"]),
        peak_mib=measured.peak_mib,
    )
