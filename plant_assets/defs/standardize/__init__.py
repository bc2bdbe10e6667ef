"""Standardize stage: the dbt project (staging -> intermediate -> marts) and the analysts' published copy."""

import dagster as dg

from plant_assets.defs.standardize.assets import plant_kpi_models
from plant_assets.defs.standardize.publish import analyst_warehouse

defs = dg.Definitions(assets=[plant_kpi_models, analyst_warehouse])
