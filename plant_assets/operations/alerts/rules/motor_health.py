"""Motor health: the motor health template (`ml/templates/motor_health.py`, pooled, calibrated per plant) flags a
motor against its own normal level. Yellow: flagged (plan an inspection); red: flagged and in ISO 20816 zone D
(stop and repair). One alert per motor, for maintenance, with the score's 3-day trend and the driver in words;
it resolves once the template no longer flags the motor."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import utc_now
from plant_assets.operations.alerts.rules import base
from plant_assets.operations.alerts.store import condition_key

KIND = "motor_health"
# Red: the motor flagged by the template has reached ISO 20816 zone D (vibration causing damage).
RED_ZONES = ("D",)


class MotorHealth(base.AlertRule):
    name = KIND

    def evaluate(self, inputs: base.RuleInputs) -> base.Decisions:
        from ml.templates import motor_health as motor

        scored = score_motors(motor.read_daily(inputs.con))
        return base.Decisions(
            raised=build_motor_alerts(scored, inputs.plants, inputs.first_day, inputs.last_day, dict(inputs.motor_versions)),
            cleared=motor_clear_days(scored, inputs.plants, inputs.first_day, inputs.last_day),
        )


RULE = MotorHealth()


def motor_champion_versions(client, plant_ids) -> dict[str, str | None]:
    """plant_id -> the version of the plant's @champion motor health model (None without one)."""
    from ml.model_registry import CHAMPION, alias_version

    versions = {}
    for plant_id in plant_ids:
        try:
            versions[plant_id] = alias_version(client, f"motor_health.{plant_id}", CHAMPION)
        except Exception:  # no registered model yet
            versions[plant_id] = None
    return versions


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
        return base.no_alerts()
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
            "alert_id": base.alert_id(row["plant_id"], KIND, path),
            "condition_key": condition_key(row["plant_id"], KIND, path),
            "plant_id": row["plant_id"], "production_date": day, "asset_path": path, "kind": KIND,
            "severity": severity, "owner_role": "maintenance", "owner": plant.owner_for("maintenance"),
            "title": f"{plant.name}: motor {row['motor_id']} health {severity} ({trend_text}) on {day}",
            "recommended_action": action,
            "explanation": motor.explain(row),
            "evidence": json.dumps({
                "score_sigma": round(float(row["score"]), 2), "trend_sigma_per_day": None if pd.isna(trend) else round(float(trend), 2),
                "driver": row["driver"], "vibration_mean_mms": rounded(row["vibration_mean_mms"], 2),
                "vibration_ratio": rounded(row["vibration_ratio"], 3),
                "acceleration_mean_ms2": rounded(row.get("acceleration_mean_ms2"), 3),
                "acceleration_ratio": rounded(row.get("acceleration_ratio"), 3),
                "temperature_delta_c": rounded(row["temperature_delta_c"], 2),
                "iso20816_zone": row["zone"] if isinstance(row["zone"], str) else None,
                "alert_z": motor.TEMPLATE.params["alert_z"],
            }),
            "model_name": f"motor_health.{row['plant_id']}", "model_version": versions.get(row["plant_id"]),
            "status": "open", "raised_at": utc_now(),
        })
    return pd.DataFrame(rows, columns=base.ALERT_COLUMNS)


def rounded(value, digits: int) -> float | None:
    """A number for the evidence JSON; None for a measurement the motor lacks (acceleration only: no velocity)."""
    return None if value is None or pd.isna(value) else round(float(value), digits)


def motor_clear_days(scored: pd.DataFrame, plants: dict[str, PlantConfig], first_day: date, last_day: date) -> pd.DataFrame:
    """Motor-days in the range on which the template did not flag the motor (back to its normal level)."""
    if scored is None or scored.empty:
        return base.clear_days(pd.DataFrame(), "")
    ok = scored[~scored["alert"].astype(bool) & scored["plant_id"].isin(list(plants))
                & scored["production_date"].between(first_day, last_day)]
    ok = ok.assign(kind=KIND, asset_path=[plants[p].isa95_path(l, m) for p, l, m in
                                                    zip(ok["plant_id"], ok["line_id"], ok["motor_id"])])
    return base.clear_days(ok, "motor health back to green (the template no longer flags it)")
