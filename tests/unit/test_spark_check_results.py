"""A dbt build on Spark that succeeded but reported no result for a selected check fails."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.dbt.assets import missing_check_results


def check(model: str, name: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(["staging", model]), name)


def test_every_selected_check_reported_is_no_failure():
    selected = [check("stg_a", "not_null_a_id"), check("stg_b", "unique_b_id")]

    assert missing_check_results(selected, set(selected)) is None


def test_the_unreported_checks_are_named_in_order():
    selected = [check("stg_b", "unique_b_id"), check("stg_a", "not_null_a_id"), check("x", "y")]

    assert missing_check_results(selected, {check("x", "y")}) == (
        "dbt reported no result for 2 checks: staging/stg_a:not_null_a_id, "
        "staging/stg_b:unique_b_id"
    )


def test_more_than_ten_unreported_checks_are_counted():
    selected = [check("stg_a", f"test_{n:02}") for n in range(12)]

    assert missing_check_results(selected, set()) == (
        "dbt reported no result for 12 checks: "
        + ", ".join(f"staging/stg_a:test_{n:02}" for n in range(10))
        + " and 2 more"
    )
