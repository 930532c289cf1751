"""The data catalogue: dbt's docs site generated from the published warehouse.

dbt reads the catalogue (every relation's columns and types) from a live connection, and the
project's profile opens its file for writing. The published file is never opened that way: the
nightly run replaces it by rename while BI tools read it. So the catalogue is generated from a
copy, taken in one read of the file (a rename during the copy leaves the copy whole, of the old
version), into a folder of its own under the project's target folder.

    python -m pipelines.metrics.docs [--warehouse warehouse] [--target dbt_project/target/docs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipelines.lib.dbt_project import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    build_environment,
    dbt_command,
    reuse_parse,
)
from pipelines.lib.layout import WarehouseLayout

DEFAULT_TARGET = DBT_PROJECT_DIR / "target" / "docs"


class DocsError(RuntimeError):
    """The docs site could not be generated."""


def generate_docs(
    warehouse_dir: Path,
    target_dir: Path = DEFAULT_TARGET,
    *,
    dbt: Sequence[str] = (DBT_EXECUTABLE,),
    environment: Mapping[str, str] | None = None,
) -> Path:
    """Generate the docs site (index.html, manifest.json, catalog.json) of the warehouse
    published in ``warehouse_dir`` into ``target_dir``; return ``target_dir``.

    ``dbt`` is the command that runs dbt, with ``environment`` added to its own: the test suite
    gives the launcher of its preloaded dbt (``pipelines.lib.dbt_preload``), as its nightlies
    use, where a dbt started afresh spends seconds importing and preparing itself."""
    serving = WarehouseLayout(warehouse_dir).serving_file
    if not serving.exists():
        raise DocsError(f"no published warehouse at {serving}: run `owh run` (or `make run`) first")
    target_dir = target_dir.resolve()
    copy_dir = target_dir / "warehouse"
    copy_dir.mkdir(parents=True, exist_ok=True)
    copy = copy_dir / serving.name
    shutil.copyfile(serving, copy)
    reuse_parse(target_dir)
    try:
        _, *arguments = dbt_command(
            "docs", "generate", "--static", target_path=target_dir, log_path=target_dir / "logs"
        )
        generated = subprocess.run(
            [*dbt, *arguments],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                **build_environment(copy),
                **(environment or {}),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            },
        )
    finally:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    if generated.returncode != 0:
        raise DocsError(f"dbt docs generate failed:\n{generated.stdout}{generated.stderr}")
    return target_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse"))
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    args = parser.parse_args(argv)
    try:
        target = generate_docs(args.warehouse, args.target)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"docs site: {target / 'static_index.html'} (one file, opens offline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
