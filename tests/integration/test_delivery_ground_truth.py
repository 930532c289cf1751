"""The delivery marts find the story the demo generator wrote into its data.

The generator knows the truth: which outcome it kept flat although all of its work was done (the
productivity illusion), which KPI it stopped reporting, which outcome reached its target, and
exactly which tasks reach no outcome. The warehouse must report each of them from the files alone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.lib.duckdb_connection import connection

from .conftest import DEMO_END, published

# every test here reads the one demo run of its test worker (see tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo_run")]

AS_OF_MONTH = DEMO_END.replace(day=1)
HAND_CHECKED_TASKS = 3  # tests/fixtures/pipeline/jira/hand-checked.json


def query(warehouse: Path, sql: str, params=()):
    with connection(published(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def manifest(landing: Path) -> dict:
    return json.loads((landing / "demo_manifest.json").read_text())


def test_the_flat_outcome_is_a_productivity_illusion(demo_run):
    landing, warehouse, _ = demo_run
    flat = manifest(landing)["flat_outcome_id"]
    rows = query(
        warehouse,
        """
        select outcome_id, linked_tasks, completed_linked_tasks, is_productivity_illusion
        from marts.mart_execution_vs_delivery
        where month = ? and is_productivity_illusion
        """,
        [AS_OF_MONTH],
    )
    flagged = {outcome_id: (linked, done) for outcome_id, linked, done, _ in rows}
    assert flat in flagged
    linked, done = flagged[flat]
    # every piece of its work is finished, yet its KPI stayed at the baseline
    assert linked > 0
    assert done == linked
    (progress,) = query(
        warehouse,
        "select progress from marts.mart_outcome_progress where outcome_id = ? and month = ?",
        [flat, AS_OF_MONTH],
    )[0]
    assert abs(progress) < 0.05


def test_the_review_of_the_flat_outcome_says_to_investigate_first(demo_run):
    landing, warehouse, _ = demo_run
    flat = manifest(landing)["flat_outcome_id"]
    (rule_id, next_action, what_changes_next) = query(
        warehouse,
        """
        select next_action_rule_id, next_action, what_changes_next
        from marts.mart_outcome_review where outcome_id = ? and month = ?
        """,
        [flat, AS_OF_MONTH],
    )[0]
    assert rule_id == "investigate_illusion"
    assert next_action.startswith("Investigate: the linked work is done but ")
    assert what_changes_next.startswith("1. Investigate: the linked work is done but ")


def test_the_stale_kpi_is_sent_to_its_feed_first(demo_run):
    landing, warehouse, _ = demo_run
    truth = manifest(landing)
    (outcome_id,) = query(
        warehouse,
        "select outcome_id from marts.dim_outcomes where kpi_id = ?",
        [truth["stale_kpi_id"]],
    )[0]
    days_stale = (DEMO_END - dt.date.fromisoformat(truth["stale_kpi_last_observed_on"])).days
    assert query(
        warehouse,
        """
        select status, next_action_rule_id, next_action, is_productivity_illusion
        from marts.mart_outcome_review where outcome_id = ? and month = ?
        """,
        [outcome_id, AS_OF_MONTH],
    ) == [
        (
            "no_data",
            "fix_kpi_feed",
            f"Fix the KPI feed: Mobile weekly active users is stale for {days_stale} days",
            False,
        )
    ]


def test_the_achieved_outcome_is_never_told_to_start_or_unblock_work(demo_run):
    landing, warehouse, _ = demo_run
    achieved = manifest(landing)["achieved_outcome_id"]
    rules = query(
        warehouse,
        """
        select distinct rule_id from marts.mart_outcome_recommendations
        where outcome_id = ? and month = ?
        """,
        [achieved, AS_OF_MONTH],
    )
    assert query(
        warehouse,
        "select status from marts.mart_outcome_progress where outcome_id = ? and month = ?",
        [achieved, AS_OF_MONTH],
    ) == [("achieved",)]
    assert {rule for (rule,) in rules} <= {"review_work_on_achieved_outcome", "continue"}


def test_unlinked_work_is_exactly_what_the_generator_left_unlinked(demo_run):
    landing, warehouse, _ = demo_run
    truth = manifest(landing)
    generated_unlinked, hand_unlinked, unlinked_open_or_done = query(
        warehouse,
        """
        select
            count(*) filter (where not is_linked and task_id not like 'HAND-%'),
            count(*) filter (where not is_linked and task_id like 'HAND-%'),
            count(*) filter (where not is_linked and not is_cancelled)
        from marts.fct_tasks
        """,
    )[0]
    assert generated_unlinked == truth["unlinked_tasks"]
    # summed over every team and month, the team-month mart reports the generator's share
    created, unlinked_created = query(
        warehouse,
        "select sum(tasks_created), sum(unlinked_tasks_created) from marts.mart_unlinked_work",
    )[0]
    assert created == truth["tasks"] + HAND_CHECKED_TASKS
    assert unlinked_created == truth["unlinked_tasks"] + hand_unlinked
    assert unlinked_created / created == pytest.approx(
        (truth["unlinked_task_share"] * truth["tasks"] + hand_unlinked)
        / (truth["tasks"] + HAND_CHECKED_TASKS),
        abs=1e-12,
    )
    # the detail mart lists every unlinked task that still takes time (not cancelled)
    assert query(warehouse, "select count(*) from marts.mart_unlinked_tasks") == [
        (unlinked_open_or_done,)
    ]


def test_the_review_has_one_row_per_outcome_month_with_three_answers(demo_run):
    _, warehouse, _ = demo_run
    (progress_rows,) = query(warehouse, "select count(*) from marts.mart_outcome_progress")[0]
    assert progress_rows > 0
    assert query(
        warehouse,
        """
        select
            count(*),
            count(distinct (outcome_id, month)),
            count(*) filter (
                where what_moved is null or what_blocked is null or what_changes_next is null
            )
        from marts.mart_outcome_review
        """,
    ) == [(progress_rows, progress_rows, 0)]
