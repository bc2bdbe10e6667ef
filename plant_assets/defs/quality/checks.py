"""Blocking data-quality gate on each ingested plant-day.

A failed gate stops downstream steps in the same run, and its result is written to the lake so dbt
and the Python assets downstream of dbt (which blocking does not reach across runs) skip that
plant-day: `stg_historian__readings` only reads plant-days whose raw gate passed.
"""


import json
from datetime import datetime, timezone

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from plant_assets import lake as lake_paths
from plant_assets.defs.ingest.assets import raw_historian
from plant_assets.partitions import plant_day_partitions, split_plant_day
from plant_assets.quality import GateOutcome, validate_frame
from plant_assets.resources import LakeResource, PlantsResource

GATE_SCHEMA = pa.schema(
    [
        ("layer", pa.string()),
        ("passed", pa.bool_()),
        ("checked_at", pa.timestamp("us")),
        ("evaluated_expectations", pa.int32()),
        ("failed_expectations", pa.string()),
    ]
)


def write_gate_result(lake: LakeResource, layer: str, plant_id: str, day, outcomes: list[GateOutcome]) -> bool:
    passed = all(o.passed for o in outcomes)
    failed = [f for o in outcomes for f in o.failed]
    row = {
        "layer": layer,
        "passed": passed,
        "checked_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "evaluated_expectations": sum(o.evaluated for o in outcomes),
        "failed_expectations": json.dumps(failed, default=str),
    }
    lake_paths.write_table_atomic(
        pa.Table.from_pylist([row], schema=GATE_SCHEMA), lake_paths.gate_path(lake.lake, layer, plant_id, day)
    )
    return passed


@dg.asset_check(
    asset=raw_historian,
    blocking=True,
    partitions_def=plant_day_partitions,
    description="Great Expectations suites `raw_historian` and `reconciliation` (expectations/): canonical columns, "
    "readings inside the local day, quality mostly good, no duplicate (tag, ts), nothing lost.",
)
def raw_historian_gate(
    context: dg.AssetCheckExecutionContext, lake: LakeResource, plants: PlantsResource
) -> dg.AssetCheckResult:
    plant_id, day = split_plant_day(context.partition_key)
    plant = plants.plant(plant_id)
    readings = pq.read_table(lake_paths.accepted_path(lake.lake, "historian", plant_id, day)).to_pandas()
    recon = pq.read_table(lake_paths.reconciliation_path(lake.lake, "historian", plant_id, day)).to_pandas()
    recon["unreconciled_records"] = recon["raw_records"] - recon["accepted_records"] - recon["quarantined_records"]

    window_start, window_end = plant.day_window_utc(day)
    outcomes = [
        validate_frame(
            "raw_historian",
            readings,
            {"window_start": pd.Timestamp(window_start), "window_end": pd.Timestamp(window_end)},
        ),
        validate_frame("reconciliation", recon),
    ]
    passed = write_gate_result(lake, "raw", plant_id, day, outcomes)
    bad_share = float((readings["quality"] == "bad").mean()) if len(readings) else None
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "plant_id": plant_id,
            "production_date": day.isoformat(),
            "rows": dg.MetadataValue.int(len(readings)),
            "bad_quality_share": dg.MetadataValue.float(bad_share) if bad_share is not None else None,
            "failed_expectations": dg.MetadataValue.json([f for o in outcomes for f in o.failed]),
            "summary": dg.MetadataValue.md("\n\n".join(o.markdown() for o in outcomes)),
        },
    )
