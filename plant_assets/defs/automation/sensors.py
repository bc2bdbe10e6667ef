"""Sensors: new export files trigger ingest; a day ingested for every plant triggers dbt and actions."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg

from plant_assets.core.lake import lake_root, staged_root
from plant_assets.core.plant_config import PlantConfig, validate_plants
from plant_assets.core.settings import get_settings, work_connection
from plant_assets.defs.automation.jobs import ingest_job, standardize_job
from plant_assets.defs.partitions import partition_span, plant_day_key
from plant_assets.ingest.contract import STREAMS
from plant_assets.ingest.exports import is_complete
from plant_assets.ingest.staging import span_stream, stage_export

# A file still being written is not read: it must be unchanged for this long.
STABLE_SECONDS = 30
KPI_MART = dg.AssetKey(["marts", "kpi_daily"])
# How often the standardize sensor looks for a day every plant has; shorter in tests that run the daemon.
STANDARDIZE_SENSOR_SECONDS = int(os.environ.get("PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS", "120"))


def export_day(plant: PlantConfig, stream: str, file_name: str) -> date | None:
    """The production day an export file belongs to, recovered from the plant's file pattern."""
    pattern = {
        "historian": plant.historian.file_pattern,
        "production_runs": plant.production_runs.file_pattern if plant.production_runs else None,
        "downtime_events": plant.downtime_events.file_pattern if plant.downtime_events else None,
        "lab_results": plant.lab_results.file_pattern if plant.lab_results else None,
    }[stream]
    if pattern is None:
        return None
    from plant_assets.ingest.patterns import match_day

    return match_day(pattern, file_name)


def staged_days(plant: PlantConfig, stream: str, path: Path) -> list[date]:
    """The plant-days a file of any span covers: it is staged (parsed once, cached by content) to know them."""
    settings = get_settings()
    stage_root = staged_root(lake_root(settings.lake_dir), settings.home)
    with work_connection() as con:
        staged = stage_export(plant, stream, path, stage_root, partition_span(), con)
    return sorted(date.fromisoformat(day) for day in staged.records_by_day)


def scan_new_exports(
    plants: dict[str, PlantConfig], landing_root: Path, seen: dict[str, list], now: float,
    span_days: Callable[[PlantConfig, str, Path], list[date]] = staged_days,
) -> tuple[dict[tuple[str, date], list[str]], dict[str, list]]:
    """Stable export files whose (size, mtime) is new since the cursor, grouped by plant-day. A file whose name
    holds no day (a history export) requests every day it covers (`span_days`)."""
    due: dict[tuple[str, date], list[str]] = {}
    next_seen = dict(seen)
    for plant_id, plant in sorted(plants.items()):
        folder = plant.landing_path(landing_root)
        if not folder.is_dir():
            continue
        entries = sorted(p.name for p in folder.iterdir())
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            if now - stat.st_mtime < STABLE_SECONDS:
                continue  # still being written, or just delivered: next tick
            if not is_complete(plant.historian, path, entries, now):
                continue  # the plant's own stability window or completion marker says: not yet
            signature = [stat.st_size, stat.st_mtime_ns]
            key = f"{plant_id}/{path.name}"
            if seen.get(key) == signature:
                continue
            for stream in STREAMS:
                day = export_day(plant, stream, path.name)
                if day is not None:
                    due.setdefault((plant_id, day), []).append(path.name)
                    break
            else:
                stream = span_stream(plant, path.name)
                for day in span_days(plant, stream, path) if stream else []:
                    due.setdefault((plant_id, day), []).append(path.name)
            next_seen[key] = signature
    return due, next_seen


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches each plant's landing folder; a new or re-delivered export file (stable for 30 s) "
    "requests ingest of the plant-day it belongs to.",
)
def new_export_files_sensor(context: dg.SensorEvaluationContext):
    settings = get_settings()
    plants, _ = validate_plants(settings.plants_dir)
    seen = json.loads(context.cursor) if context.cursor else {}
    due, next_seen = scan_new_exports(plants, settings.landing_dir, seen, time.time())
    requests = [
        dg.RunRequest(
            partition_key=plant_day_key(plant_id, day),
            tags={"plant_id": plant_id, "production_date": day.isoformat(), "trigger": "new_export_files"},
        )
        for (plant_id, day), files in sorted(due.items())
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(next_seen, sort_keys=True))


IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def days_still_ingesting(instance: dg.DagsterInstance) -> set[str]:
    """Days with an ingest run queued or under way. raw_historian is materialized before its blocking gates run
    (in the same run), so its materialization alone does not say the plant-day passed them."""
    runs = instance.get_runs(dg.RunsFilter(job_name=ingest_job.name, statuses=IN_PROGRESS))
    return {run.tags.get("dagster/partition", "").split("|")[0] for run in runs}


def days_ready_for_standardize(instance: dg.DagsterInstance, plant_ids: list[str]) -> dict[str, int]:
    """Days whose raw_historian partition exists for every plant and was ingested after the day's KPIs
    were last built, and no ingest run of which is still going -> newest ingest storage id of that day (part
    of the run key, so a late export re-runs its day once)."""
    materialization = dg.DagsterEventType.ASSET_MATERIALIZATION
    ingested = instance.get_latest_storage_id_by_partition(dg.AssetKey("raw_historian"), materialization)
    built = instance.get_latest_storage_id_by_partition(KPI_MART, materialization)
    by_day: dict[str, dict[str, int]] = {}
    for key, storage_id in ingested.items():
        day, plant_id = key.split("|")
        by_day.setdefault(day, {})[plant_id] = storage_id
    ready, busy = {}, days_still_ingesting(instance)
    for day, ids in by_day.items():
        if day in busy:
            continue  # next look: dbt must not read a plant-day whose gates have not passed yet
        newest = max(ids.values())
        if plant_ids and all(p in ids for p in plant_ids) and newest > built.get(day, 0):
            ready[day] = newest
    return ready


@dg.sensor(
    job=standardize_job,
    minimum_interval_seconds=STANDARDIZE_SENSOR_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Once every plant's ingest run for a day has finished (gated) and is newer than the day's KPIs, "
    "runs dbt for that day across all plants, then scoring and alerts. A re-ingested plant-day re-runs its day.",
)
def standardize_when_day_ingested(context: dg.SensorEvaluationContext):
    plants, _ = validate_plants(get_settings().plants_dir)
    ready = days_ready_for_standardize(context.instance, sorted(plants))
    return [
        dg.RunRequest(run_key=f"standardize:{day}:{storage_id}", partition_key=day, tags={"trigger": "day_ingested"})
        for day, storage_id in sorted(ready.items())
    ]
