"""Operations stage: champion scoring, alerts with an owner, their delivery, savings and the rollout scorecard."""

import dagster as dg

from plant_assets.defs.operations import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
