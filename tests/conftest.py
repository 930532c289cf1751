"""How `make test` shares the tests between its two pytest-xdist workers.

The demo run and the Jira-only run are session fixtures that cost minutes each; every test that
reads one must run on the worker that ran it, or that worker runs it again. A test module names
its group in its ``pytestmark`` (``pytest.mark.xdist_group("demo_run")``); modules without one
join ``SECOND_WORKER_GROUP``. Each group runs whole on one worker. Besides the two runs' groups,
a module with fixtures of its own that cost as much (the extract pipeline's fake trackers) names
a group of its own, which the scheduler gives to either worker. A few unit test modules that need
neither run name ``demo_run`` to even the two shares, since every unmarked module joins the
Jira-only worker's.

pytest-xdist's own ``--dist loadgroup`` reads the marker on each test and renames the test with
an ``@group`` suffix, which pytest 9 no longer lets a plugin do (the test keeps its name, and every
test became its own group). The scheduler below groups by the module's marker instead: the
controller sees only test names, so it reads the group from the module's source.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

# The nightlies each test worker runs in its own process share one preloaded dbt (and
# subprocesses that run one, one per process): starting one per run cost each run about 3 s of
# the core the other test worker uses. pipelines.lib.dbt_preload.SHARED_VARIABLE.
os.environ["OWH_DBT_PRELOAD_SHARED"] = "1"

SECOND_WORKER_GROUP = "jira_only"
_MODULE_GROUP = re.compile(r"""pytest\.mark\.xdist_group\(\s*["']([A-Za-z0-9_]+)["']\s*\)""")


@functools.cache
def module_group(path: Path) -> str:
    """The xdist group a test module names (its first ``xdist_group`` mark), or the default."""
    try:
        match = _MODULE_GROUP.search(path.read_text())
    except OSError:
        match = None
    return match.group(1) if match else SECOND_WORKER_GROUP


class ModuleGroupScheduling(LoadScopeScheduling):
    """Whole groups of test modules per worker, the group read from each module."""

    def _split_scope(self, nodeid: str) -> str:
        return module_group(self.config.rootpath / nodeid.split("::", 1)[0])


# optional: a run with `-p no:xdist` has no such hook
@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    if config.getvalue("dist") == "loadgroup":
        return ModuleGroupScheduling(config, log)
    return None
