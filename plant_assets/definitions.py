"""The plant-assets code location: one folder per stage under defs/, assembled here."""

from __future__ import annotations

import dagster as dg

from plant_assets.defs.automation.jobs import ingest_job, registry_job, standardize_job, training_job
from plant_assets.defs.automation.schedules import nightly_ingest_schedule
from plant_assets.defs.automation.sensors import new_export_files_sensor, standardize_when_day_ingested
from plant_assets.defs.ingest.assets import plant_registry, raw_downtime_events, raw_historian, raw_production_runs
from plant_assets.defs.ml.assets import energy_baseline_model
from plant_assets.defs.operations.assets import energy_alerts, energy_performance
from plant_assets.defs.quality.checks import raw_historian_gate
from plant_assets.defs.standardize.assets import plant_kpi_models
from plant_assets.resources import build_resources

defs = dg.Definitions(
    assets=[
        plant_registry,
        raw_historian,
        raw_production_runs,
        raw_downtime_events,
        plant_kpi_models,
        energy_baseline_model,
        energy_performance,
        energy_alerts,
    ],
    asset_checks=[raw_historian_gate],
    jobs=[ingest_job, standardize_job, training_job, registry_job],
    schedules=[nightly_ingest_schedule],
    sensors=[new_export_files_sensor, standardize_when_day_ingested],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
