"""The analysts' read-only warehouse: published after the nightly dbt build by atomic swap.

Asset `analyst_warehouse` (group standardize, pool warehouse, day-partitioned like the dbt assets
with a single-run backfill policy). It depends on the dbt marts, so in a run that also builds them it
runs only after dbt succeeded (a failed model or an error-severity data test fails the dbt step and
skips this one); it then copies the whole warehouse file to `Settings.analyst_duckdb_path`
(PLANT_ASSETS_ANALYST_DUCKDB, default <home>/analyst.duckdb) by checkpoint + copy + check + rename.
The partition only says which run published; the copy is always the complete warehouse, less the plant-days
whose marts gate failed (their numbers cannot be true: quality.kpi_bounds), which are withheld from it.
"""

from datetime import date

import dagster as dg

from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.core.settings import get_settings
from plant_assets.defs.partitions import day_partitions
from plant_assets.defs.resources import LakeResource, WarehouseResource
from plant_assets.quality.marts_metrics import failed_plant_days
from plant_assets.standardize.analyst_copy import publish_warehouse

PUBLISHED_MARTS = (
    "kpi_daily",
    "dim_kpi",
    "dim_asset",
    "fct_production_run",
    "fct_lab_quality",
    "fct_motor_health_daily",
    "fct_line_energy_hourly",
    "fct_family_output_hourly",
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
    + [dg.AssetKey(name) for name in ("energy_alerts", "operational_alerts", "alert_deliveries", "rollout_scorecard")],
    description="Read-only copy of the warehouse for analysts (docs/analysts.md), replaced by atomic rename "
    "after dbt succeeded; readers never see a lock error or a half-written state.",
)
def analyst_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, lake: LakeResource
) -> dg.MaterializeResult:
    target = get_settings().analyst_duckdb_path
    # every plant-day whose latest marts gate failed, whatever the partition: the copy is the whole warehouse
    withheld = failed_plant_days(lake.lake, date(1900, 1, 1), date(2999, 12, 31), ("marts",))
    result = publish_warehouse(warehouse.path, target, withhold=withheld)
    context.log.info(f"published {result.source} -> {result.target} in {result.seconds:.2f} s, "
                     f"withheld {len(withheld)} plant-day(s) that failed the marts gate")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.target)),
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            **{f"rows {table}": count for table, count in result.row_counts.items()},
            "withheld_plant_days": dg.MetadataValue.json(sorted(f"{p}|{d}" for p, d in withheld)),
        }
    )
