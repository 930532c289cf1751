"""The layout of a warehouse folder, named in one place.

```
<warehouse>/
  warehouse.duckdb                    the serving DuckDB file
  marts -> releases/<release>/marts   symlink to the served Parquet marts (<mart>.parquet)
  releases/<release>/marts/           the release served now and the one served before it
  reports/                            the served reports (<YYYY-MM>.html, latest.html)
  build/<build id>/warehouse.duckdb   a run's build file (build id: the id of the root run)
  build/<build id>/marts/, reports/   what the run exports and writes before it publishes
  logs/<run id>.log                   dbt's console output of one `owh run`
  extract/                            the cursors of `owh extract` (one JSON file per scope)
  ingest/warehouse.duckdb             the scratch file of `owh ingest`
```

A build file has the basename of the serving file because dbt-duckdb names a file's catalog
after it: a view bound to another catalog name would not read after the swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATABASE_FILE_NAME = "warehouse.duckdb"
MARTS_FOLDER = "marts"
REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class WarehouseLayout:
    """Where each file of the warehouse folder ``root`` lives. Pure: it creates nothing."""

    root: Path

    @property
    def serving_file(self) -> Path:
        return self.root / DATABASE_FILE_NAME

    @property
    def marts_dir(self) -> Path:
        """The served Parquet marts: a symlink into ``releases_dir``."""
        return self.root / MARTS_FOLDER

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    def release_dir(self, release: str) -> Path:
        return self.releases_dir / _folder_name(release)

    def release_marts_dir(self, release: str) -> Path:
        return self.release_dir(release) / MARTS_FOLDER

    @property
    def reports_dir(self) -> Path:
        return self.root / REPORTS_FOLDER

    @property
    def builds_dir(self) -> Path:
        return self.root / "build"

    def build_dir(self, build_id: str) -> Path:
        return self.builds_dir / _folder_name(build_id)

    def build_file(self, build_id: str) -> Path:
        return self.build_dir(build_id) / DATABASE_FILE_NAME

    def build_marts_dir(self, build_id: str) -> Path:
        return self.build_dir(build_id) / MARTS_FOLDER

    def build_reports_dir(self, build_id: str) -> Path:
        return self.build_dir(build_id) / REPORTS_FOLDER

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log_file(self, run_id: str) -> Path:
        return self.logs_dir / f"{_folder_name(run_id)}.log"

    @property
    def cursors_dir(self) -> Path:
        return self.root / "extract"

    @property
    def ingest_scratch_file(self) -> Path:
        return self.root / "ingest" / DATABASE_FILE_NAME


def _folder_name(name: str) -> str:
    """A run id or release name used as one path component: never a path of its own."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name:
        raise ValueError(f"not a plain folder name: {name!r}")
    return name
