"""The analysts' read-only warehouse: published after the nightly dbt build by atomic swap.

Asset `analyst_warehouse` (group standardize, pool warehouse, day-partitioned like the dbt assets
with a single-run backfill policy). It depends on the dbt marts, so in a run that also builds them it
runs only after dbt succeeded (a failed model or an error-severity data test fails the dbt step and
skips this one); it then copies the whole warehouse file to `Settings.analyst_duckdb_path`
(PLANT_ASSETS_ANALYST_DUCKDB, default <home>/analyst.duckdb) by checkpoint + copy + check + rename.
The partition only says which run published; the copy is always the complete warehouse.
"""


import dagster as dg

from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.core.settings import get_settings
from plant_assets.defs.partitions import day_partitions
from plant_assets.defs.resources import WarehouseResource
from plant_assets.standardize.analyst_copy import publish_warehouse

PUBLISHED_MARTS = (
    "kpi_daily",
    "dim_kpi",
    "dim_asset",
    "fct_production_run",
    "fct_lab_quality",
    "fct_motor_health_daily",
    "fct_line_energy_hourly",
    "fct_enpi_daily",
    "fct_cross_plant_benchmark",
)


@dg.asset(
    name="analyst_warehouse",
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="standardize",
    kinds={"duckdb"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    # Published last in the nightly run, so analysts see that night's KPIs and actions together.
    deps=[dg.AssetKey(["marts", name]) for name in PUBLISHED_MARTS]
    + [dg.AssetKey(name) for name in ("energy_alerts", "operational_alerts", "alert_notifier", "rollout_scorecard")],
    description="Read-only copy of the warehouse for analysts (docs/analysts.md), replaced by atomic rename "
    "after dbt succeeded; readers never see a lock error or a half-written state.",
)
def analyst_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    target = get_settings().analyst_duckdb_path
    result = publish_warehouse(warehouse.path, target)
    context.log.info(f"published {result.source} -> {result.target} in {result.seconds:.2f} s")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.target)),
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            **{f"rows {table}": count for table, count in result.row_counts.items()},
        }
    )
