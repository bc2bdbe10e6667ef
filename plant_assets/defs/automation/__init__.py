"""Automation: the jobs users launch and the schedules and sensors the daemon runs."""

import dagster as dg

from plant_assets.defs.automation.jobs import freshness_job, ingest_job, registry_job, standardize_job, training_job
from plant_assets.defs.automation.schedules import freshness_schedule, nightly_ingest_schedule
from plant_assets.defs.automation.sensors import new_export_files_sensor, standardize_when_day_ingested

defs = dg.Definitions(
    jobs=[ingest_job, standardize_job, training_job, registry_job, freshness_job],
    schedules=[nightly_ingest_schedule, freshness_schedule],
    sensors=[new_export_files_sensor, standardize_when_day_ingested],
)
