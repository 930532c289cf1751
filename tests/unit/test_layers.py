"""``pipelines/lib`` is the bottom layer: it imports nothing of the package built on top of it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB_DIR = Path(__file__).resolve().parents[2] / "pipelines" / "lib"
ALLOWED_PREFIX = "pipelines.lib"


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """Every name an ``import`` or ``from ... import`` brings in, dotted in full, with its line,
    wherever it is (top level, inside a function, behind ``if TYPE_CHECKING``). Relative imports
    are resolved against ``module``, the dotted name of the file; ``from pipelines import cli``
    gives ``pipelines.cli``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, node.module] if node.module else package)
            else:
                base = node.module or ""
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def upward_imports(source: str, module: str) -> list[str]:
    """The imports of the ``pipelines`` package that are not of ``pipelines.lib``."""
    return [
        f"line {line}: {name}"
        for line, name in imported_modules(source, module)
        if (name == "pipelines" or name.startswith("pipelines."))
        and name != ALLOWED_PREFIX
        and not name.startswith(ALLOWED_PREFIX + ".")
    ]


@pytest.mark.parametrize("path", sorted(LIB_DIR.glob("*.py")), ids=lambda p: p.name)
def test_lib_imports_nothing_above_it(path: Path):
    module = f"pipelines.lib.{path.stem}"
    assert upward_imports(path.read_text(encoding="utf-8"), module) == []


def test_upward_imports_are_found_in_every_form():
    source = "\n".join(
        [
            "import pipelines.defs.resources",
            "from pipelines.sources import TableLoad",
            "from pipelines import cli",
            "from ..runner import run_nightly",
            "from .. import report",
            "def f():",
            "    from pipelines.extract.pulls import CursorStore",
            "from pipelines.lib.raw_schema import TABLES",
            "from . import landing",
            "from pipelines import lib",
            "import duckdb",
        ]
    )
    assert upward_imports(source, "pipelines.lib.example") == [
        "line 1: pipelines.defs.resources",
        "line 2: pipelines.sources.TableLoad",
        "line 3: pipelines.cli",
        "line 4: pipelines.runner.run_nightly",
        "line 5: pipelines.report",
        "line 7: pipelines.extract.pulls.CursorStore",
    ]
