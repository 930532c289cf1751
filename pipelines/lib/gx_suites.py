"""Great Expectations' side of the raw-table suites: the only module that imports GX.

``pipelines.lib.quality`` decides what to validate (frames DuckDB reduces, and ``Expect``
descriptions of the expectations) and adds the results up; this module turns the descriptions
into GX expectations and validates one frame with them. It runs where ``pipelines.lib.gx_worker``
sends it the frames: in a worker process that `owh run` starts before it loads Dagster, so that
GX's import (about 2 s: GX imports scipy, altair and SQLAlchemy) happens on the other core, or
in the calling process when no worker runs.

What leaves this module is counts, the positions of the rows GX flagged in a reduced frame, and
the first line of an exception: never a value of the frame.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence

import pandas as pd

from pipelines.lib.quality import Expect, ExpectationOutcome, FrameResult

# GX would otherwise try to send usage statistics from a machine that may have no network.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# With the optional spark extra (docs/spark.md) installed, GX imports pyspark's Spark Connect
# modules, and pyspark ends any process whose __main__ has neither file nor spec (`python -c`, a
# pytest-xdist worker) with exit status 0, taking it for a run of its own doctests. An
# interactive interpreter (sys.ps1 set) is exempt: marked so only while GX is imported.
_interactive = hasattr(sys, "ps1")
if not _interactive:
    sys.ps1 = ""
try:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
finally:
    if not _interactive:
        del sys.ps1

# Where an expectation stands among those of its frame, in its GX metadata.
POSITION = "owh_position"


@functools.cache
def _dataframe_batches():
    """The batch definition every frame is validated through: a whole pandas DataFrame, given
    with each validation, in an ephemeral GX context made once per process.

    Each data source or asset added to a context saves the context's whole configuration, as
    YAML, even in memory: a context and an asset per suite cost about a third of a suite's time.
    The definition holds no data and no result, so every suite can share it."""
    # in memory, without a Data Docs site: nothing of a validation is written anywhere
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults()),
    )
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("raw").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def prepare() -> None:
    """Everything a first validation would make: GX imported (by importing this module) and the
    batch definition."""
    _dataframe_batches()


def validate_frame(
    batch: str, frame: pd.DataFrame, expectations: Sequence[Expect], *, complete: bool
) -> list[FrameResult]:
    """GX's verdict on ``frame`` for each of ``expectations``, in their order. ``complete`` asks
    for the positions of the unexpected rows (a reduced frame adds up their weights)."""
    definition = _dataframe_batches()  # first: a suite needs GX's active context
    suite = gx.ExpectationSuite(name="raw_table_suite")
    for position, expectation in enumerate(expectations):
        suite.add_expectation(
            getattr(gx.expectations, expectation.name)(
                **expectation.kwargs, meta={POSITION: position}
            )
        )
    result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        suite,
        result_format={
            "result_format": "COMPLETE" if complete else "BASIC",
            "partial_unexpected_count": 0,
        },
    )
    # GX lists the expectations that raised first: back in the order they were given
    in_order = sorted(result.results, key=lambda each: each.expectation_config.meta[POSITION])
    return [
        FrameResult(
            _outcome(batch, expectation_result),
            tuple(sorted((expectation_result.result or {}).get("unexpected_index_list") or []))
            if complete
            else (),
        )
        for expectation_result in in_order
    ]


def _outcome(batch: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column") or ", ".join(kwargs.get("column_list") or [])
    name = f"{config.type}({columns})" if columns else config.type
    message = _raised_exception(result.exception_info or {})
    if message is not None:
        return ExpectationOutcome(batch, name, success=False, error=message)
    counts = result.result or {}
    observed = counts.get("observed_value")
    return ExpectationOutcome(
        batch,
        name,
        success=bool(result.success),
        element_count=counts.get("element_count"),
        unexpected_count=counts.get("unexpected_count"),
        # only row counts are copied: other observed values could be data
        observed=observed if config.type == "expect_table_row_count_to_be_between" else None,
    )


def _raised_exception(info: Mapping[str, object]) -> str | None:
    """The first line of the exception an expectation raised, wherever GX put it.

    GX reports it at the top level of ``exception_info`` for some failures and, for a metric
    that could not be computed (a missing column), in a dict per metric.
    """
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "exception raised")
            return message.strip().splitlines()[0]
    return None
