"""ML stage: per-plant model instances calibrated from the common templates (ml/templates/)."""

import dagster as dg

from plant_assets.defs.ml.assets import energy_baseline_model, energy_model_drift, motor_health_model, quality_model

defs = dg.Definitions(assets=[energy_baseline_model, motor_health_model, quality_model, energy_model_drift])
