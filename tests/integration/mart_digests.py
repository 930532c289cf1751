"""Fingerprints of the published Parquet marts, to prove that a change left every figure as it was.

A mart's digest is the SHA-256 of its column names and types and of its rows sorted by every
column, each value written with ``repr`` (so a double differs if any of its bits does). The
recorded digests in ``tests/fixtures/mart_digests.json`` were taken from the demo run of
``tests/integration/conftest.py`` (``demo_run``) before the speed work of the pipeline; a test
compares every run of that demo against them.

Record them again only when a change is meant to alter a published figure, and say which in the
commit: ``python -m tests.integration.mart_digests <published marts folder>`` prints the JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "mart_digests.json"


def mart_digest(parquet: Path) -> dict[str, object]:
    """Rows, columns with their types, and the SHA-256 of the sorted rows of one Parquet mart."""
    with duckdb.connect() as con:
        relation = con.sql(f"select * from read_parquet('{parquet}') order by all")
        columns = [
            f"{name} {kind}" for name, kind in zip(relation.columns, relation.types, strict=True)
        ]
        digest = hashlib.sha256("\n".join(columns).encode())
        rows = 0
        while batch := relation.fetchmany(10_000):
            for row in batch:
                digest.update(b"\n" + repr(row).encode())
            rows += len(batch)
    return {"rows": rows, "columns": columns, "sha256": digest.hexdigest()}


def mart_digests(marts_dir: Path) -> dict[str, dict[str, object]]:
    """The digest of every Parquet mart in a folder, by mart name."""
    return {path.stem: mart_digest(path) for path in sorted(marts_dir.glob("*.parquet"))}


def recorded_digests() -> dict[str, dict[str, object]]:
    return json.loads(RECORDED.read_text())


if __name__ == "__main__":
    print(json.dumps(mart_digests(Path(sys.argv[1])), indent=1))
