"""Score plant-days with each plant's champion energy baseline: actual vs expected energy per plant-day
(the alert on a deviation beyond tolerance: `operations.alerts.rules.energy_intensity`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd

from plant_assets.core.plant_config import PlantConfig


def daily_performance(
    plant_hours: pd.DataFrame, expected_kwh, plant: PlantConfig, model_name: str, model_version: str,
    drivers: dict | None = None,
) -> pd.DataFrame:
    """Actual vs baseline-expected energy per plant-day (expected = sum of hourly predictions).
    `drivers`: {production_date: [driver, ...]}, the champion's top drivers of each day's expectation."""
    frame = plant_hours.assign(expected_kwh=expected_kwh)
    daily = frame.groupby(["plant_id", "production_date"], as_index=False).agg(
        actual_kwh=("energy_kwh", "sum"), expected_kwh=("expected_kwh", "sum"), units_produced=("units_produced", "sum")
    )
    units = daily["units_produced"].where(daily["units_produced"] > 0)
    daily["actual_kwh_per_unit"] = daily["actual_kwh"] / units
    daily["expected_kwh_per_unit"] = daily["expected_kwh"] / units
    daily["deviation"] = daily["actual_kwh"] / daily["expected_kwh"] - 1.0
    daily["tolerance"] = plant.alerting.energy_tolerance
    daily["model_name"] = model_name
    daily["model_version"] = str(model_version)
    daily["scored_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    daily["production_date"] = pd.to_datetime(daily["production_date"]).dt.date
    if drivers is not None:
        by_day = {pd.Timestamp(k).date(): v for k, v in drivers.items()}
        daily["top_drivers"] = [json.dumps(by_day.get(d, [])) for d in daily["production_date"]]
    return daily
