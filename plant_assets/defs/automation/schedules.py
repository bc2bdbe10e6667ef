"""Nightly: each plant's previous local day, once that day is complete in the plant's own time zone."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from plant_assets.core.plant_config import PlantConfig, validate_plants
from plant_assets.core.production_day import completed_local_day
from plant_assets.core.settings import get_settings
from plant_assets.defs.automation.jobs import freshness_job, ingest_job
from plant_assets.defs.partitions import FIRST_PRODUCTION_DAY, plant_day_key


def nightly_requests(plants: dict[str, PlantConfig], now_utc: datetime) -> list[dg.RunRequest]:
    requests = []
    for plant_id, plant in sorted(plants.items()):
        day = completed_local_day(plant, now_utc)
        if day.isoformat() < FIRST_PRODUCTION_DAY:
            continue
        # The run key makes every hourly tick after the day completes ask for the same run once.
        requests.append(
            dg.RunRequest(
                run_key=f"nightly:{plant_id}:{day.isoformat()}",
                partition_key=plant_day_key(plant_id, day),
                tags={"plant_id": plant_id, "production_date": day.isoformat(), "trigger": "nightly"},
            )
        )
    return requests


@dg.schedule(
    job=ingest_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly tick; for each plant, ingests its previous local production day once that day has "
    "ended in the plant's time zone (plus 1 h grace). Each plant-day runs once (run keys).",
)
def nightly_ingest_schedule(context: dg.ScheduleEvaluationContext):
    plants, invalid = validate_plants(get_settings().plants_dir)
    for plant_id, error in invalid.items():
        context.log.error(f"plant {plant_id} skipped, invalid config: {error}")
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    return nightly_requests(plants, now.astimezone(timezone.utc))


freshness_schedule = dg.ScheduleDefinition(
    name="export_freshness_schedule",
    job=freshness_job,
    cron_schedule="45 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: flags any plant whose newest historian export lags its last complete local day.",
)
