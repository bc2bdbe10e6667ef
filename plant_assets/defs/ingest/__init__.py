"""Ingest stage: plant-day exports into the lake (plant x day partitions) and the plant registry tables."""

import dagster as dg

from plant_assets.defs.ingest.assets import (
    plant_registry,
    raw_downtime_events,
    raw_historian,
    raw_lab_results,
    raw_production_runs,
)

defs = dg.Definitions(
    assets=[plant_registry, raw_historian, raw_production_runs, raw_downtime_events, raw_lab_results],
)
