"""ML assets: per-plant model instances calibrated from the common templates (ml/templates/)."""

from plant_assets.defs.ml.assets import (
    energy_baseline_model,
    energy_model_drift,
    motor_health_model,
    quality_model,
)

ML_ASSETS = [energy_baseline_model, motor_health_model, quality_model, energy_model_drift]

__all__ = ["ML_ASSETS", "energy_baseline_model", "energy_model_drift", "motor_health_model", "quality_model"]
