"""Quality stage: the blocking Great Expectations gates on ingested plant-days and on the KPI mart."""

import dagster as dg

from plant_assets.defs.quality import checks

defs = dg.Definitions(asset_checks=dg.load_asset_checks_from_modules([checks]))
