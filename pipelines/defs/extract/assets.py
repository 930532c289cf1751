"""Extract assets: each configured tracker pulled into the landing folder, before ingestion.

One asset per source (``landing/jira``, ``landing/github``, ``landing/linear``, group ``extract``),
upstream of the task-tracker ingest asset, so the nightly job and its schedule pull first and
build on what they pulled. A source that ``owh.yml`` does not configure is recorded as not
configured and pulls nothing; demo runs pull nothing (their landing folder is generated). A pull
that fails fails the run: nothing is published from a tracker that could not be read, and the
landing folder and the source's cursor stay as they were, so the next run simply tries again.
"""

import dagster as dg

from pipelines.defs.resources import DEMO_TAG, WarehouseResource
from pipelines.extract.config import load_config
from pipelines.extract.policy import ExtractError
from pipelines.extract.sources import SOURCES, is_configured, pull_source


def landing_asset_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def _extract_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=landing_asset_key(source),
        group_name="extract",
        kinds={"python", source},
        description=(
            f"Issues pulled from {source} since the last pull (all of them the first time) into "
            f"<landing>/{source}/<pull id>/, if owh.yml configures {source}."
        ),
    )
    def extract(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        if context.run.tags.get(DEMO_TAG) == "true":
            return dg.MaterializeResult(metadata={"pulled": False, "reason": "demo run"})
        config = load_config(warehouse.config_path)
        if not is_configured(config, source):
            context.log.info(f"{source} is not configured in owh.yml: nothing to pull")
            return dg.MaterializeResult(metadata={"pulled": False, "reason": "not configured"})
        try:
            result = pull_source(
                source,
                config,
                landing_dir=warehouse.landing_path,
                warehouse_dir=warehouse.warehouse_path,
            )
        except ExtractError as exc:
            # one line, no credential: what the operator reads in the UI and in `owh run`
            raise dg.Failure(description=str(exc)) from None
        folder = str(result.folder.relative_to(warehouse.landing_path)) if result.folder else None
        context.log.info(
            f"{source}: {result.issues} issues in {result.pages} pages into {folder or 'nothing'}"
        )
        return dg.MaterializeResult(
            metadata={
                "pulled": True,
                "issues": dg.MetadataValue.int(result.issues),
                "pages": dg.MetadataValue.int(result.pages),
                "full_pull": result.full,
                "pull_folder": folder or "none (no issue changed)",
                "since": result.since or "the beginning",
                "cursor": result.cursor or "unchanged",
            }
        )

    extract.__name__ = f"extract_{source}"
    return extract


extract_assets = [_extract_asset(source) for source in SOURCES]
