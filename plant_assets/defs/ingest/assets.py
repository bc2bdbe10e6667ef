"""Ingest: each plant's historian and MES exports for one local production day -> Parquet lake.

Every raw record ends in the lake or in quarantine with a reason code; the per-file counts are
written to the reconciliation folder and shown in the materialization metadata. Bad input never
raises: a malformed export is quarantined with file, line and reason, and other plants go on.
"""


import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from plant_assets.core import lake as lake_paths
from plant_assets.core.owners import CENTRAL_TEAM, PLANT_TEAMS
from plant_assets.core.settings import work_connection
from plant_assets.defs.partitions import plant_day_partitions, split_plant_day
from plant_assets.defs.resources import LakeResource, PlantsResource
from plant_assets.ingest.contract import (
    DOWNTIME_SCHEMA,
    QUARANTINE_SCHEMA,
    RECONCILIATION_SCHEMA,
    RUNS_SCHEMA,
    ParsedExport,
)
from plant_assets.ingest.exports import (
    files_for_day,
    parse_events,
    parse_historian,
    parse_lab_results,
)
from plant_assets.ingest.lab_results import LAB_SCHEMA
from plant_assets.ingest.plant_tables import registry_tables


def _reconciliation_markdown(recon: pa.Table) -> str:
    lines = ["| file | raw | accepted | quarantined |", "|---|---:|---:|---:|"]
    for row in recon.to_pylist():
        lines.append(
            f"| {row['source_file']} | {row['raw_records']} | {row['accepted_records']} | {row['quarantined_records']} |"
        )
    return "\n".join(lines)


def ingest_stream(
    context: dg.AssetExecutionContext, stream: str, lake: LakeResource, plants: PlantsResource
) -> dg.MaterializeResult:
    plant_id, day = split_plant_day(context.partition_key)
    plant = plants.plant(plant_id)
    landing = plant.landing_path(lake.landing)
    files = files_for_day(plant, landing, day, stream)
    with work_connection() as con:
        if stream == "historian":
            parsed = parse_historian(plant, files, day, con)
        elif getattr(plant, stream) is None:
            parsed = _empty_partition(stream)
        elif stream == "lab_results":
            parsed = parse_lab_results(plant, files, day, con)
        else:
            parsed = parse_events(plant, stream, files, day, con)
    lake_paths.move_file_atomic(parsed.accepted_file, lake_paths.accepted_path(lake.lake, stream, plant_id, day))
    lake_paths.move_file_atomic(parsed.quarantine_file, lake_paths.quarantine_path(lake.lake, stream, plant_id, day))
    lake_paths.write_table_atomic(
        parsed.reconciliation, lake_paths.reconciliation_path(lake.lake, stream, plant_id, day)
    )

    raw = int(pc.sum(parsed.reconciliation["raw_records"]).as_py() or 0)
    accepted, quarantined = parsed.accepted_rows, parsed.quarantined_rows
    if raw != accepted + quarantined:  # a parser bug, never bad data: fail loudly
        raise RuntimeError(f"{plant_id} {day} {stream}: raw {raw} != accepted {accepted} + quarantined {quarantined}")
    reasons = parsed.reason_counts()
    if not files and getattr(plant, stream, True) is None:
        context.log.info(f"{plant_id}: no {stream} export configured; wrote an empty partition")
    elif not files:
        context.log.warning(f"{plant_id} {day}: no {stream} export found in {landing}")
    return dg.MaterializeResult(
        metadata={
            "plant_id": plant_id,
            "production_date": day.isoformat(),
            "files": dg.MetadataValue.int(len(files)),
            "raw_records": dg.MetadataValue.int(raw),
            "accepted_records": dg.MetadataValue.int(accepted),
            "quarantined_records": dg.MetadataValue.int(quarantined),
            "quarantine_reasons": dg.MetadataValue.json(dict(reasons)),
            "reconciliation": dg.MetadataValue.md(_reconciliation_markdown(parsed.reconciliation) if files else "no files"),
            "dagster/row_count": dg.MetadataValue.int(accepted),
            "lake_path": dg.MetadataValue.path(str(lake_paths.accepted_path(lake.lake, stream, plant_id, day))),
        }
    )


@dg.asset(
    partitions_def=plant_day_partitions,
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=[PLANT_TEAMS],
    description="Historian readings of one plant-day, parsed from the plant's own dialect into the canonical "
    "long frame (tag, ts_utc, value, quality); rejected records go to quarantine with a reason.",
)
def raw_historian(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
    return ingest_stream(context, "historian", lake, plants)


@dg.asset(
    partitions_def=plant_day_partitions,
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=[PLANT_TEAMS],
    description="Production orders/runs (product, start, end, good and scrap quantity) that started on one plant-day.",
)
def raw_production_runs(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
    return ingest_stream(context, "production_runs", lake, plants)


@dg.asset(
    partitions_def=plant_day_partitions,
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=[PLANT_TEAMS],
    description="Downtime events (line, start, end, reason, planned/unplanned) that started on one plant-day.",
)
def raw_downtime_events(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
    return ingest_stream(context, "downtime_events", lake, plants)


ACCEPTED_SCHEMAS = {"production_runs": RUNS_SCHEMA, "downtime_events": DOWNTIME_SCHEMA, "lab_results": LAB_SCHEMA}


def _empty_partition(stream: str) -> ParsedExport:
    """A plant without an optional export (MES runs, downtime, lab) gets an empty partition, so dbt reads
    one schema for every plant."""
    return ParsedExport.from_tables(accepted=ACCEPTED_SCHEMAS[stream].empty_table(),
                                    quarantine=QUARANTINE_SCHEMA.empty_table(),
                                    reconciliation=RECONCILIATION_SCHEMA.empty_table())


@dg.asset(
    partitions_def=plant_day_partitions,
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=[PLANT_TEAMS],
    description="Lab / quality-inspection results (sample, line, product, characteristic, value converted to the "
    "spec's unit) sampled on one plant-day; empty for a plant without a lab_results export.",
)
def raw_lab_results(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
    return ingest_stream(context, "lab_results", lake, plants)


@dg.asset(
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=[CENTRAL_TEAM],
    description="Every plant's config flattened into registry tables (plants, lines, motors, products, tag map "
    "with pint-derived unit conversions) that dbt joins to map local tags onto canonical signals.",
)
def plant_registry(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
    good, bad = plants.all()
    for plant_id, error in bad.items():
        context.log.error(f"plant {plant_id} skipped, its config is invalid:\n{error}")
    tables = registry_tables(good)
    for name, table in tables.items():
        lake_paths.write_table_atomic(table, lake_paths.registry_path(lake.lake, name))
    return dg.MaterializeResult(
        metadata={
            "plants": dg.MetadataValue.json(sorted(good)),
            "invalid_plants": dg.MetadataValue.json(bad),
            "mapped_tags": dg.MetadataValue.int(tables["tag_map"].num_rows),
            "dagster/row_count": dg.MetadataValue.int(tables["tag_map"].num_rows),
        }
    )
