"""dbt: staging -> intermediate -> marts, one invocation per day range for every plant."""


from pathlib import Path
from typing import Any, Mapping, Optional

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from ml.crash_points import crash_point
from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.defs.partitions import day_partitions
from plant_assets.defs.resources import dbt_project
from plant_assets.standardize.dbt_build import (
    days_of_window,
    dbt_build_args,
    ensure_manifest,
)

# dbt sources are the Dagster assets that write them: (source name, table) -> asset key.
SOURCE_ASSETS = {
    ("historian", "raw_readings"): "raw_historian",
    ("quality", "gate_results"): "raw_historian",  # written by its blocking gate
    ("mes", "production_runs"): "raw_production_runs",
    ("mes", "downtime_events"): "raw_downtime_events",
    ("lab", "lab_results"): "raw_lab_results",
    ("ingest", "reconciliation"): "raw_historian",  # written by every ingest asset; the historian one stands for them
}
REGISTRY_SOURCE = "registry"


class PlantAssetsTranslator(DagsterDbtTranslator):
    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Optional[DbtProject]
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            if props["source_name"] == REGISTRY_SOURCE:
                return spec.replace_attributes(key=dg.AssetKey("plant_registry"))
            return spec.replace_attributes(key=dg.AssetKey(SOURCE_ASSETS[(props["source_name"], props["name"])]))
        layer = props.get("config", {}).get("schema") or "seeds"
        return spec.replace_attributes(
            key=dg.AssetKey([layer, props["name"]]),
            group_name="standardize",
            owners=[CENTRAL_TEAM],
        ).merge_attributes(kinds={"duckdb"}, tags={"layer": layer})


project = dbt_project()
ensure_manifest(Path(project.manifest_path))


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    dagster_dbt_translator=PlantAssetsTranslator(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)),
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
)
def plant_kpi_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Every plant's local tags mapped onto shared KPI semantics, rebuilt for the partition's days."""
    first_day, last_day = days_of_window(*context.partition_time_window)
    for event in dbt.cli(dbt_build_args(first_day, last_day), context=context).stream():
        crash_point("dbt")  # test-only (ml/crash_points.py): a power cut while dbt writes the warehouse
        yield event
