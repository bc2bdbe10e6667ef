"""Ingest stage: plant-day exports into the lake (plant x day partitions) and the plant registry tables."""

import dagster as dg

from plant_assets.defs.ingest import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
