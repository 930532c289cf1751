"""dbt's DuckDB connections, hardened like every other connection of the project.

dbt-duckdb opens its connection itself (one per invocation, as ``keep_open: true`` asks), so the
settings of ``pipelines.lib.duckdb_connection.harden`` reach them through this plugin, named in
``dbt_project/profiles.yml``: UTC, and no file outside the warehouse file's folder and the seeds
folder (seeds are loaded with ``COPY ... FROM`` their CSV file). The configuration is locked
afterwards, so a model, a macro or a value that reaches SQL cannot read ``/etc/passwd``, write
beside the warehouse, or load an extension.

The profile therefore sets nothing per cursor (``settings``): after the lock, a ``SET`` fails.

dbt's connections also drop DuckDB's insertion order (``preserve_insertion_order``): a model is a
set of rows, no model reads its input in the order it was stored (every window orders its
partition fully, lists read as lists are ordered, the one ``limit`` follows an ``order by``), and
the published Parquet marts are written ``order by all``. Without it, writing a table of millions
of rows takes a fifth less time (DECISIONS "dbt's connections do not keep insertion order").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from pipelines.lib.duckdb_connection import harden

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.extra_directories = [Path(p) for p in plugin_config.get("allowed_directories", [])]

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        database = Path(self.creds.path).expanduser() if self.creds is not None else None
        folders = [SEEDS_DIR, *self.extra_directories]
        if database is not None and str(database) != ":memory:":
            folders.append(database.resolve().parent)
        # before harden, which locks the configuration
        conn.execute("set preserve_insertion_order = false")
        harden(conn, folders)
