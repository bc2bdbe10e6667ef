"""Ingest: each plant's historian and MES exports for one local production day -> Parquet lake.

Every raw record ends in the lake or in quarantine with a reason code; the per-file counts are
written to the reconciliation folder and shown in the materialization metadata. Bad input never
raises: a malformed export is quarantined with file, line and reason, and other plants go on. A refused
export (a symlink out of the landing folder, unreadable) is quarantined by name and reason; a re-run never
replaces an ingested partition with an empty one (a vanished or refused export keeps the earlier partition
and says so).
"""


import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from ml.crash_points import crash_point
from plant_assets.core import lake as lake_paths
from plant_assets.core.owners import CENTRAL_TEAM, PLANT_TEAMS
from plant_assets.core.settings import get_settings, work_connection
from plant_assets.defs.partitions import partition_span, plant_day_partitions, split_plant_day
from plant_assets.defs.resources import LakeResource, PlantsResource
from plant_assets.ingest.exports import parse_stream
from plant_assets.ingest.parsing.source_files import Delivery
from plant_assets.ingest.plant_tables import registry_tables
from plant_assets.ingest.staging import inputs_for_day


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
    stage_root = lake_paths.staged_root(lake.lake, get_settings().home)
    with work_connection() as con:
        # The day's daily files and its slice of every file of any span (each such file is parsed once).
        files = inputs_for_day(plant, stream, landing, stage_root, day, partition_span(), con)
        parsed = parse_stream(plant, stream, files, day, con)
    refused = {f.name: f.problem for f in files if isinstance(f, Delivery) and f.staged is None and f.problem}
    for name, problem in refused.items():
        context.log.warning(f"{plant_id} {day} {stream}: {name} {problem}")
    target = lake_paths.accepted_path(lake.lake, stream, plant_id, day)
    earlier = lake_paths.stored_rows(target) if parsed.accepted_rows == 0 else 0
    if earlier:
        return _keep_earlier_partition(context, stream, plant_id, day, files, refused, earlier, target)
    lake_paths.move_file_atomic(parsed.accepted_file, target)
    crash_point("ingest.accepted_written")  # test-only (ml/crash_points.py): a power cut between a partition's files
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
            **_partition_metadata(plant_id, day, files, refused, accepted, target),
            "raw_records": dg.MetadataValue.int(raw),
            "accepted_records": dg.MetadataValue.int(accepted),
            "quarantined_records": dg.MetadataValue.int(quarantined),
            "quarantine_reasons": dg.MetadataValue.json(dict(reasons)),
            "reconciliation": dg.MetadataValue.md(_reconciliation_markdown(parsed.reconciliation) if files else "no files"),
        }
    )


def _partition_metadata(plant_id: str, day, files: list, refused: dict[str, str], rows: int, target) -> dict:
    return {
        "plant_id": plant_id,
        "production_date": day.isoformat(),
        "files": dg.MetadataValue.int(len(files)),
        "refused_files": dg.MetadataValue.json(refused),
        "dagster/row_count": dg.MetadataValue.int(rows),
        "lake_path": dg.MetadataValue.path(str(target)),
    }


def _keep_earlier_partition(context: dg.AssetExecutionContext, stream: str, plant_id: str, day, files: list,
                            refused: dict[str, str], earlier: int, target) -> dg.MaterializeResult:
    """An ingested plant-day is never replaced by an empty one: a vanished or refused export is not an empty
    day (no plant config declares a day empty), so the earlier partition stays whole (readings, quarantine and
    reconciliation) and the run says why. To empty a day on purpose, delete its partition folders."""
    if refused:
        why = "; ".join(f"{name} {problem}" for name, problem in refused.items())
    elif not files:
        why = "no export found in the landing folder"
    else:
        why = "the exports gave no accepted rows"
    note = f"kept the earlier partition of {earlier} rows: {why}"
    context.log.warning(f"{plant_id} {day} {stream}: {note}")
    return dg.MaterializeResult(
        metadata={**_partition_metadata(plant_id, day, files, refused, earlier, target), "kept_earlier_partition": note}
    )


# One plant-day asset per export stream, each parsed by ingest_stream.
STREAM_DESCRIPTIONS = {
    "historian": "Historian readings of one plant-day, parsed from the plant's own dialect into the canonical "
    "long frame (tag, ts_utc, value, quality); rejected records go to quarantine with a reason.",
    "production_runs": "Production orders/runs (product, start, end, good and scrap quantity) that started on one "
    "plant-day.",
    "downtime_events": "Downtime events (line, start, end, reason, planned/unplanned) that started on one plant-day.",
    "lab_results": "Lab / quality-inspection results (sample, line, product, characteristic, value converted to the "
    "spec's unit) sampled on one plant-day; empty for a plant without a lab_results export.",
}


def stream_asset(stream: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{stream}",
        partitions_def=plant_day_partitions,
        group_name="ingest",
        kinds={"python", "parquet"},
        owners=[PLANT_TEAMS],
        description=STREAM_DESCRIPTIONS[stream],
    )
    def raw_stream(context: dg.AssetExecutionContext, lake: LakeResource, plants: PlantsResource):
        return ingest_stream(context, stream, lake, plants)

    return raw_stream


raw_historian = stream_asset("historian")
raw_production_runs = stream_asset("production_runs")
raw_downtime_events = stream_asset("downtime_events")
raw_lab_results = stream_asset("lab_results")


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
