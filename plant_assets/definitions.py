"""The plant-assets code location: one folder per stage under defs/, assembled here."""

from __future__ import annotations

import dagster as dg

from plant_assets.defs.automation.jobs import (
    freshness_job,
    ingest_job,
    registry_job,
    standardize_job,
    training_job,
)
from plant_assets.defs.automation.schedules import (
    freshness_schedule,
    nightly_ingest_schedule,
)
from plant_assets.defs.automation.sensors import (
    new_export_files_sensor,
    standardize_when_day_ingested,
)
from plant_assets.defs.ingest.assets import (
    plant_registry,
    raw_downtime_events,
    raw_historian,
    raw_lab_results,
    raw_production_runs,
)
from plant_assets.defs.ml import ML_ASSETS
from plant_assets.defs.operations import OPERATIONS_ASSETS
from plant_assets.defs.operations.assets import energy_alerts, energy_performance
from plant_assets.defs.quality.checks import (
    exports_are_fresh,
    historian_gates,
    marts_kpi_gate,
)
from plant_assets.defs.resources import build_resources
from plant_assets.defs.standardize.assets import plant_kpi_models
from plant_assets.defs.standardize.publish import analyst_warehouse
from plant_assets.scaleout.executor import executor_from_env

defs = dg.Definitions(
    assets=[
        plant_registry,
        raw_historian,
        raw_production_runs,
        raw_downtime_events,
        raw_lab_results,
        plant_kpi_models,
        *ML_ASSETS,
        energy_performance,
        energy_alerts,
        *OPERATIONS_ASSETS,
        analyst_warehouse,
    ],
    asset_checks=[historian_gates, marts_kpi_gate, exports_are_fresh],
    jobs=[ingest_job, standardize_job, training_job, registry_job, freshness_job],
    schedules=[nightly_ingest_schedule, freshness_schedule],
    sensors=[new_export_files_sensor, standardize_when_day_ingested],
    resources=build_resources(),
    executor=executor_from_env(),  # PLANT_ASSETS_EXECUTOR: in_process (default), multiprocess, celery
)
