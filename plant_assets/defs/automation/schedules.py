"""Nightly: each plant's previous local day, once that day is complete in the plant's own time zone."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import dagster as dg

from plant_assets.core.plant_config import PlantConfig, validate_plants
from plant_assets.core.production_day import completed_local_day
from plant_assets.core.settings import get_settings
from plant_assets.defs.automation.jobs import freshness_job, ingest_job
from plant_assets.defs.partitions import FIRST_PRODUCTION_DAY, plant_day_key

# Hourly by default (each plant's day ends at its own local midnight); an environment may tick more often
# (the daemon test ticks every minute). A tick skips plant-days already launched, so extra ticks are no-ops.
NIGHTLY_CRON = os.environ.get("PLANT_ASSETS_NIGHTLY_CRON", "15 * * * *")
RUN_KEY_TAG = "dagster/run_key"  # where Dagster records a run request's run_key on the run


def nightly_requests(plants: dict[str, PlantConfig], now_utc: datetime) -> list[dg.RunRequest]:
    requests = []
    for plant_id, plant in sorted(plants.items()):
        day = completed_local_day(plant, now_utc)
        if day.isoformat() < FIRST_PRODUCTION_DAY:
            continue
        # The same key for every tick that asks for this plant-day; `not_launched` drops it once it has a run.
        requests.append(
            dg.RunRequest(
                run_key=f"nightly:{plant_id}:{day.isoformat()}",
                partition_key=plant_day_key(plant_id, day),
                tags={"plant_id": plant_id, "production_date": day.isoformat(), "trigger": "nightly"},
            )
        )
    return requests


def not_launched(requests: list[dg.RunRequest], launched_run_keys: set[str]) -> list[dg.RunRequest]:
    return [request for request in requests if request.run_key not in launched_run_keys]


def launched_run_keys(instance: dg.DagsterInstance, run_keys: list[str]) -> set[str]:
    """The run keys among `run_keys` that some run already carries. Dagster's own run-key check for a schedule
    only looks at runs of the same tick (same scheduled time), so without this every hourly tick re-ran the day."""
    if not run_keys:
        return set()
    runs = instance.get_runs(dg.RunsFilter(job_name=ingest_job.name, tags={RUN_KEY_TAG: run_keys}))
    return {run.tags[RUN_KEY_TAG] for run in runs}


@dg.schedule(
    job=ingest_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly tick (PLANT_ASSETS_NIGHTLY_CRON); for each plant, ingests its previous local production "
    "day once that day has ended in the plant's time zone (plus 1 h grace). Each plant-day runs once: a tick skips "
    "plant-days already launched (their run key).",
)
def nightly_ingest_schedule(context: dg.ScheduleEvaluationContext):
    plants, invalid = validate_plants(get_settings().plants_dir)
    for plant_id, error in invalid.items():
        context.log.error(f"plant {plant_id} skipped, invalid config: {error}")
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    requests = nightly_requests(plants, now.astimezone(timezone.utc))
    due = not_launched(requests, launched_run_keys(context.instance, [r.run_key for r in requests]))
    if requests and not due:
        return dg.SkipReason(f"every plant's completed day already has its run ({len(requests)} plants)")
    return due


freshness_schedule = dg.ScheduleDefinition(
    name="export_freshness_schedule",
    job=freshness_job,
    cron_schedule="45 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: flags any plant whose newest historian export lags its last complete local day.",
)
