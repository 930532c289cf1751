"""A BI tool reads the published warehouse while a nightly run builds and swaps the next one.

The client (tests/integration/bi_client.py) is what Superset and other SQLAlchemy-based BI tools
use: `duckdb-engine` on the published file opened read-only, a new connection per query, plus
the Parquet marts and `owh metrics`' client. It polls a copy of the Jira-only build for as long as
the next night's incremental run takes (``incremental_runs`` in conftest.py), which publishes the
two issues a Jira pull revised.
"""

from __future__ import annotations

import os

import pytest

from pipelines.lib.layout import WarehouseLayout

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("jira_only")]


def test_a_bi_client_reads_without_error_through_a_nightly_swap(incremental_runs):
    runs = incremental_runs
    assert runs.summary.success, runs.summary.errors
    reads = runs.bi_reads
    release_after = os.readlink(WarehouseLayout(runs.incremental).marts_dir)
    errors = [read["error"] for read in reads if "error" in read]
    print(f"BI client: {len(reads)} reads through the nightly run, {len(errors)} errors")

    assert errors == []
    assert release_after != runs.release_before
    # every read saw one whole version: the old one until the swap, then the new one
    releases = [read["release"] for read in reads]
    assert releases[0] == runs.release_before and releases[-1] == release_after
    switch = releases.index(release_after)
    assert releases[switch:] == [release_after] * (len(reads) - switch)
    assert set(releases[:switch]) == {runs.release_before}
    # the file and the Parquet marts: no revised title before the run, the pull's after it
    for key in ("revised", "parquet_revised"):
        seen = [read[key] for read in reads]
        assert set(seen) == {0, runs.pulled_issues}, key
        assert seen[0] == 0 and seen[-1] == runs.pulled_issues, key
        changed = seen.index(runs.pulled_issues)
        assert seen[changed:] == [runs.pulled_issues] * (len(seen) - changed), key
    # the month list and the metrics answered in every read, the same throughout
    assert len({read["months"] for read in reads}) == 1
    assert len({read["metric_months"] for read in reads}) == 1
    assert reads[0]["metric_months"] > 0
    assert {read["parquet_marts"] for read in reads} == {
        len(list(WarehouseLayout(runs.incremental).marts_dir.glob("*.parquet")))
    }
