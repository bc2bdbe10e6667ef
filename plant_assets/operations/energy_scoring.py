"""Score plant-days with each plant's champion energy baseline and turn deviations into alerts."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone

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


def alert_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def _drivers(rec) -> dict:
    """The champion's top drivers of the day's expected energy, in an operator's words (when scored with them)."""
    raw = getattr(rec, "top_drivers", None)
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return {}
    drivers = json.loads(raw) if isinstance(raw, str) else raw
    return {"top_drivers": [d["text"] for d in drivers]} if drivers else {}


def build_energy_alerts(performance: pd.DataFrame, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """One alert per plant-day whose energy per unit exceeds the baseline beyond the plant's tolerance."""
    rows = []
    for rec in performance.itertuples(index=False):
        plant = plants.get(rec.plant_id)
        if plant is None or pd.isna(rec.deviation) or rec.deviation <= rec.tolerance:
            continue
        severity = "critical" if rec.deviation > 2 * rec.tolerance else "warning"
        day: date = rec.production_date
        rows.append(
            {
                "alert_id": alert_id(rec.plant_id, "energy_intensity", plant.isa95_path(), day),
                "plant_id": rec.plant_id,
                "production_date": day,
                "asset_path": plant.isa95_path(),
                "kind": "energy_intensity",
                "severity": severity,
                "owner_role": "energy",
                "owner": plant.owner_for("energy"),
                "title": f"{plant.name}: energy per unit {rec.deviation:+.0%} above baseline on {day}",
                "recommended_action": (
                    "Check for energy used outside production: equipment left running during idle and "
                    "changeover periods, compressed-air leaks, HVAC or chiller setpoints; compare the hourly "
                    "profile against the baseline in the warehouse (actions.energy_performance)."
                ),
                "evidence": pd.Series(
                    {
                        "actual_kwh": round(rec.actual_kwh, 1),
                        "expected_kwh": round(rec.expected_kwh, 1),
                        "actual_kwh_per_unit": round(rec.actual_kwh_per_unit, 5),
                        "expected_kwh_per_unit": round(rec.expected_kwh_per_unit, 5),
                        "deviation": round(rec.deviation, 4),
                        "tolerance": rec.tolerance,
                    }
                    | _drivers(rec)
                ).to_json(),
                "model_name": rec.model_name,
                "model_version": rec.model_version,
                "status": "open",
                "raised_at": datetime.now(timezone.utc).replace(tzinfo=None),
            }
        )
    columns = [
        "alert_id", "plant_id", "production_date", "asset_path", "kind", "severity", "owner_role", "owner", "title",
        "recommended_action", "evidence", "model_name", "model_version", "status", "raised_at",
    ]
    return pd.DataFrame(rows, columns=columns)
