"""ML stage: per-plant model instances calibrated from the common templates, one asset per use case in
ml/templates/ (and its drift monitor's), built in assets.py; nothing here lists the use cases."""

import dagster as dg

from ml.templates import use_cases
from plant_assets.defs.ml.assets import ml_assets

defs = dg.Definitions(assets=ml_assets(use_cases()))
