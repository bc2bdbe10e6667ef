"""Alert rules beyond energy intensity: motor health (yellow / red with its trend) and failed data-quality gates.

Each rule returns candidate rows with the columns of `actions.alerts` plus `condition_key` and `explanation`;
`plant_assets.alerting.upsert_alerts` de-duplicates them into one alert per persisting condition.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pandas as pd

from plant_assets.alerting import condition_key
from plant_assets.config import PlantConfig
from plant_assets.scoring import alert_id

ALERT_COLUMNS = [
    "alert_id", "condition_key", "plant_id", "production_date", "asset_path", "kind", "severity", "owner_role", "owner",
    "title", "recommended_action", "explanation", "evidence", "model_name", "model_version", "status", "raised_at",
]

# Red: the motor flagged by the template has reached ISO 20816 zone D (vibration causing damage).
RED_ZONES = ("D",)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def with_condition_keys(energy_alerts: pd.DataFrame) -> pd.DataFrame:
    """Energy intensity is a daily KPI: each plant-day above tolerance is its own condition."""
    out = energy_alerts.copy()
    out["condition_key"] = [
        condition_key(r.plant_id, r.kind, r.asset_path, pd.Timestamp(r.production_date).date())
        for r in out.itertuples()
    ]
    if "explanation" not in out:
        out["explanation"] = [
            "; ".join(json.loads(e).get("top_drivers", [])) if isinstance(e, str) else None for e in out["evidence"]
        ]
    return out


def score_motors(daily: pd.DataFrame) -> pd.DataFrame:
    """The motor health template scored per plant (pooled template, plant calibration), with alert flags."""
    from ml.templates import motor_health as motor

    std = motor.standardize(daily)
    if std.empty:
        return std
    template = motor.fit_template(std)
    frames = [motor.alerts(motor.score(motor.calibrate(template, frame), frame)) for _, frame in std.groupby("plant_id")]
    scored = pd.concat(frames, ignore_index=True)
    scored["production_date"] = pd.to_datetime(scored["production_date"]).dt.date
    return scored


def motor_severity(row) -> str | None:
    """Yellow: the template flags the motor against its own normal level (zones A-C: plan an inspection).
    Red: flagged and in ISO 20816 zone D (stop and repair)."""
    if not bool(row["alert"]):
        return None
    return "red" if row["zone"] in RED_ZONES else "yellow"


def build_motor_alerts(
    scored: pd.DataFrame, plants: dict[str, PlantConfig], first_day: date, last_day: date,
    versions: dict[str, str | None] | None = None,
) -> pd.DataFrame:
    """One candidate per alerting motor-day in the range: yellow (the template's alert rule) or red (zone D),
    with the 3-day score trend, the driver in plain words and the evidence."""
    from ml.templates import motor_health as motor

    versions = versions or {}
    rows = []
    if scored is None or scored.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    scored = scored.sort_values(["plant_id", "motor_id", "production_date"]).copy()
    scored["trend_3d"] = scored.groupby(["plant_id", "motor_id"])["score"].diff(2) / 2
    for row in scored.to_dict("records"):
        day = row["production_date"]
        plant = plants.get(row["plant_id"])
        if plant is None or not (first_day <= day <= last_day):
            continue
        severity = motor_severity(row)
        if severity is None:
            continue
        path = plant.isa95_path(row["line_id"], row["motor_id"])
        trend = row["trend_3d"]
        trend_text = "rising" if pd.notna(trend) and trend > 0.5 else "steady" if pd.notna(trend) else "new"
        action = (
            "Stop the motor at the next safe opportunity and inspect bearings, alignment and mounting; "
            "plan the replacement before the next shift." if severity == "red" else
            "Schedule a vibration and bearing inspection within the week; check lubrication and alignment, "
            "and watch the trend daily."
        )
        rows.append({
            "alert_id": alert_id(row["plant_id"], "motor_health", path),
            "condition_key": condition_key(row["plant_id"], "motor_health", path),
            "plant_id": row["plant_id"], "production_date": day, "asset_path": path, "kind": "motor_health",
            "severity": severity, "owner_role": "maintenance", "owner": plant.owner_for("maintenance"),
            "title": f"{plant.name}: motor {row['motor_id']} health {severity} ({trend_text}) on {day}",
            "recommended_action": action,
            "explanation": motor.explain(row),
            "evidence": json.dumps({
                "score_sigma": round(float(row["score"]), 2), "trend_sigma_per_day": None if pd.isna(trend) else round(float(trend), 2),
                "driver": row["driver"], "vibration_mean_mms": round(float(row["vibration_mean_mms"]), 2),
                "vibration_ratio": round(float(row["vibration_ratio"]), 3),
                "temperature_delta_c": round(float(row["temperature_delta_c"]), 2), "iso20816_zone": row["zone"],
                "alert_z": motor.TEMPLATE.params["alert_z"],
            }),
            "model_name": f"motor_health.{row['plant_id']}", "model_version": versions.get(row["plant_id"]),
            "status": "open", "raised_at": _now(),
        })
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def build_gate_alerts(failed: set, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """One candidate per plant-day with a failed data-quality gate, for the central data team."""
    rows = []
    for plant_id, day in sorted(failed):
        plant = plants.get(plant_id)
        if plant is None:
            continue
        path = plant.isa95_path()
        rows.append({
            "alert_id": alert_id(plant_id, "data_quality", path, day),
            "condition_key": condition_key(plant_id, "data_quality", path),
            "plant_id": plant_id, "production_date": day, "asset_path": path, "kind": "data_quality",
            "severity": "warning", "owner_role": "central_data_team", "owner": plant.owner_for("central_data_team"),
            "title": f"{plant.name}: data-quality gate failed on {day}",
            "recommended_action": "Open the gate's Data Docs (`plant-assets gates docs`), fix the export or the tag map, "
                                  "then re-run the plant-day; its KPIs and scores are withheld until it passes.",
            "explanation": "a blocking data-quality gate failed; downstream KPIs skip this plant-day",
            "evidence": json.dumps({"failed_day": str(day)}), "model_name": None, "model_version": None,
            "status": "open", "raised_at": _now(),
        })
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)
