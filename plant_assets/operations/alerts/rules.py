"""Alert rules beyond energy intensity: motor health (yellow / red with its trend), quality drift (scrap above
the quality champion's prediction) and failed data-quality gates, and the clear days that resolve alerts.

Each rule returns candidate rows with the columns of `actions.alerts` plus `condition_key` and `explanation`;
`plant_assets.operations.alerts.store.upsert_alerts` de-duplicates them into one alert per persisting condition.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.alerts.store import condition_key
from plant_assets.operations.energy_scoring import alert_id

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


# ---------------------------------------------------------------- quality drift

QUALITY_KIND = "quality_drift"


def score_quality(runs: pd.DataFrame, models: dict[str, tuple]) -> pd.DataFrame:
    """Each run's predicted scrap share from its plant's quality champion. `models`: plant_id -> (booster,
    version). Plants without a champion are left out (no prediction, no quality alert)."""
    from ml.templates import quality

    frames = []
    for plant_id, frame in runs.groupby("plant_id") if len(runs) else []:
        if plant_id not in models:
            continue
        model, version = models[plant_id]
        frames.append(frame.assign(predicted_scrap_share=quality.predict(model, frame), model_version=version))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def quality_line_days(scored: pd.DataFrame, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """Per line and production day: observed vs predicted scrap share over the plant's trailing
    `alerting.scrap_window_days` (unit-weighted, so long runs count more), the excess in points and as a share
    of the prediction, the 3-day trend of the predicted share, and whether the drift condition holds."""
    if scored is None or scored.empty:
        return pd.DataFrame()
    frame = scored.assign(
        production_date=pd.to_datetime(scored["production_date"]).dt.date,
        units=scored["good_qty"].astype(float) + scored["scrap_qty"].astype(float),
    )
    frame["predicted_scrap"] = frame["predicted_scrap_share"] * frame["units"]
    daily = frame.groupby(["plant_id", "line_id", "production_date"], as_index=False).agg(
        units=("units", "sum"), scrap=("scrap_qty", "sum"), predicted_scrap=("predicted_scrap", "sum"),
        runs=("order_id", "nunique"), model_version=("model_version", "last"))
    out = []
    for (plant_id, line_id), rows in daily.groupby(["plant_id", "line_id"]):
        plant = plants.get(plant_id)
        if plant is None:
            continue
        rule = plant.alerting
        rows = rows.set_index(pd.to_datetime(rows["production_date"])).sort_index()
        full = rows[["units", "scrap", "predicted_scrap"]].asfreq("D", fill_value=0.0)
        window = full.rolling(rule.scrap_window_days, min_periods=1).sum().loc[rows.index]
        rows = rows.assign(
            observed_share=(window["scrap"] / window["units"]).to_numpy(),
            predicted_share=(window["predicted_scrap"] / window["units"]).to_numpy(),
            day_predicted_share=(rows["predicted_scrap"] / rows["units"]).to_numpy(),
        )
        rows["excess_points"] = 100 * (rows["observed_share"] - rows["predicted_share"])
        rows["excess_ratio"] = rows["observed_share"] / rows["predicted_share"] - 1.0
        rows["predicted_trend_points_per_day"] = 100 * rows["day_predicted_share"].diff(2) / 2
        rows["drifting"] = (rows["excess_ratio"] > rule.scrap_tolerance) & (rows["excess_points"] >= rule.scrap_min_excess_points)
        rows["tolerance"] = rule.scrap_tolerance
        out.append(rows.reset_index(drop=True))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _quality_drivers(scored: pd.DataFrame, model, top: int = 2) -> list[str]:
    """The features that moved the champion's predicted scrap share most over these runs, in plain words."""
    from ml.explain import FEATURE_WORDS, contributions
    from ml.templates import quality

    contrib = contributions(model, scored, list(quality.FEATURES)).drop(columns="bias").mean()
    values = scored[list(quality.FEATURES)].mean()
    texts = []
    for feature in contrib.abs().sort_values(ascending=False).index[:top]:
        effect = 100 * float(contrib[feature])
        words = FEATURE_WORDS.get(feature, feature.replace("_", " "))
        texts.append(f"{words} = {float(values[feature]):,.2f} {'raised' if effect >= 0 else 'lowered'} the expected "
                     f"scrap by {abs(effect):.2f} points")
    return texts


def build_quality_alerts(
    line_days: pd.DataFrame, scored: pd.DataFrame, models: dict[str, tuple], plants: dict[str, PlantConfig],
    first_day: date, last_day: date,
) -> pd.DataFrame:
    """One candidate per drifting line-day in the range: the line's observed scrap share above what its plant's
    quality champion predicts beyond the tolerance; critical beyond twice the tolerance."""
    rows = []
    if line_days is None or line_days.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    for row in line_days[line_days["drifting"]].to_dict("records"):
        day, plant = row["production_date"], plants[row["plant_id"]]
        if not (first_day <= day <= last_day):
            continue
        path = plant.isa95_path(row["line_id"])
        severity = "critical" if row["excess_ratio"] > 2 * row["tolerance"] else "warning"
        window_start = day - timedelta(days=plant.alerting.scrap_window_days - 1)
        runs = scored[(scored["plant_id"] == row["plant_id"]) & (scored["line_id"] == row["line_id"])
                      & pd.to_datetime(scored["production_date"]).dt.date.between(window_start, day)]
        drivers = _quality_drivers(runs, models[row["plant_id"]][0]) if len(runs) else []
        trend = row["predicted_trend_points_per_day"]
        explanation = (
            f"scrap {row['observed_share']:.2%} observed vs {row['predicted_share']:.2%} expected by the quality model "
            f"over the last {plant.alerting.scrap_window_days} day(s) ({row['excess_ratio']:+.0%}); the model's "
            "expectation is driven by: " + ("; ".join(drivers) or "no driver available") +
            (f"; the expected scrap itself trends {trend:+.2f} points/day" if pd.notna(trend) and abs(trend) >= 0.1 else "")
        )
        rows.append({
            "alert_id": alert_id(row["plant_id"], QUALITY_KIND, path),
            "condition_key": condition_key(row["plant_id"], QUALITY_KIND, path),
            "plant_id": row["plant_id"], "production_date": day, "asset_path": path, "kind": QUALITY_KIND,
            "severity": severity, "owner_role": "quality", "owner": plant.owner_for("quality"),
            "title": f"{plant.name}: scrap on line {row['line_id']} {row['excess_ratio']:+.0%} above the quality model on {day}",
            "recommended_action": (
                "Scrap on this line is running above what its products and rates explain: check the line's "
                "wear parts and settings (knives, nozzles, guides, fill levels), compare the rejects with the last "
                "good shift, and hold or re-inspect the affected lots until the scrap share is back to normal."),
            "explanation": explanation,
            "evidence": json.dumps({
                "window_days": plant.alerting.scrap_window_days, "runs": int(len(runs)),
                "units": int(row["units"]), "observed_scrap_share": round(float(row["observed_share"]), 5),
                "predicted_scrap_share": round(float(row["predicted_share"]), 5),
                "excess_points": round(float(row["excess_points"]), 3), "excess_ratio": round(float(row["excess_ratio"]), 3),
                "tolerance": row["tolerance"], "min_excess_points": plant.alerting.scrap_min_excess_points,
                "predicted_trend_points_per_day": None if pd.isna(trend) else round(float(trend), 3),
                "top_drivers": drivers,
            }),
            "model_name": f"quality.{row['plant_id']}", "model_version": row["model_version"],
            "status": "open", "raised_at": _now(),
        })
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


# ---------------------------------------------------------------- clear days (automatic resolution)


def _clear(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    from plant_assets.operations.alerts.store import CLEAR_COLUMNS

    return frame.assign(reason=reason)[CLEAR_COLUMNS] if len(frame) else pd.DataFrame(columns=CLEAR_COLUMNS)


def motor_clear_days(scored: pd.DataFrame, plants: dict[str, PlantConfig], first_day: date, last_day: date) -> pd.DataFrame:
    """Motor-days in the range on which the template did not flag the motor (back to its normal level)."""
    if scored is None or scored.empty:
        return _clear(pd.DataFrame(), "")
    ok = scored[~scored["alert"].astype(bool) & scored["plant_id"].isin(list(plants))
                & scored["production_date"].between(first_day, last_day)]
    ok = ok.assign(kind="motor_health", asset_path=[plants[p].isa95_path(l, m) for p, l, m in
                                                    zip(ok["plant_id"], ok["line_id"], ok["motor_id"])])
    return _clear(ok, "motor health back to green (the template no longer flags it)")


def quality_clear_days(line_days: pd.DataFrame, plants: dict[str, PlantConfig], first_day: date, last_day: date) -> pd.DataFrame:
    if line_days is None or line_days.empty:
        return _clear(pd.DataFrame(), "")
    ok = line_days[~line_days["drifting"] & line_days["production_date"].between(first_day, last_day)]
    ok = ok.assign(kind=QUALITY_KIND, asset_path=[plants[p].isa95_path(l) for p, l in zip(ok["plant_id"], ok["line_id"])])
    return _clear(ok, "scrap share back within tolerance of the quality model")


def gate_clear_days(checked: set, failed: set, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """Plant-days whose data-quality gates were evaluated and all passed."""
    ok = pd.DataFrame([(p, d) for p, d in sorted(set(checked) - set(failed)) if p in plants],
                      columns=["plant_id", "production_date"])
    ok = ok.assign(kind="data_quality", asset_path=[plants[p].isa95_path() for p in ok["plant_id"]])
    return _clear(ok, "data-quality gates passed")


def energy_clear_days(performance: pd.DataFrame, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """Plant-days whose energy per unit was within tolerance of the champion baseline."""
    if performance is None or performance.empty:
        return _clear(pd.DataFrame(), "")
    ok = performance[performance["deviation"].notna() & (performance["deviation"] <= performance["tolerance"])
                     & performance["plant_id"].isin(list(plants))]
    ok = ok.assign(kind="energy_intensity", asset_path=[plants[p].isa95_path() for p in ok["plant_id"]])
    return _clear(ok, "energy intensity within tolerance of the baseline")
