"""Standardize stage: the dbt project (staging -> intermediate -> marts) and the analysts' published copy."""

import dagster as dg

from plant_assets.defs.standardize import assets, publish

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets, publish]))
