"""Quality drift: a line's observed scrap share, over the plant's trailing `alerting.scrap_window_days`, above
what its plant's quality champion (`ml/templates/quality.py`) predicts beyond `alerting.scrap_tolerance` (and by
at least `alerting.scrap_min_excess_points`); critical beyond twice the tolerance. One alert per line, for
quality, with the model's drivers in words; it resolves once the scrap share is back within tolerance. Plants
without a quality champion raise none."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import utc_now
from plant_assets.operations.alerts.rules import base
from plant_assets.operations.alerts.store import condition_key

KIND = "quality_drift"


class QualityDrift(base.AlertRule):
    name = KIND

    def evaluate(self, inputs: base.RuleInputs) -> base.Decisions:
        from ml.templates import quality

        models = dict(inputs.quality_models)
        runs = score_quality(quality.read_runs(inputs.con), models)
        line_days = quality_line_days(runs, inputs.plants)
        return base.Decisions(
            raised=build_quality_alerts(line_days, runs, models, inputs.plants, inputs.first_day, inputs.last_day),
            cleared=quality_clear_days(line_days, inputs.plants, inputs.first_day, inputs.last_day),
        )


RULE = QualityDrift()


def load_quality_champions(client, plant_ids) -> dict[str, tuple]:
    """plant_id -> (the plant's @champion quality model, its version); plants without one are left out."""
    import mlflow.lightgbm

    from ml.model_registry import CHAMPION, alias_version, registered_model_name
    from ml.templates import quality

    champions = {}
    for plant_id in plant_ids:
        name = registered_model_name(quality.TEMPLATE.name, plant_id)
        try:
            version = alias_version(client, name, CHAMPION)
        except Exception:  # no registered model yet
            version = None
        if version is not None:
            champions[plant_id] = (mlflow.lightgbm.load_model(f"models:/{name}@{CHAMPION}"), str(version))
    return champions


def score_quality(runs: pd.DataFrame, models: dict[str, tuple]) -> pd.DataFrame:
    """Each run's predicted scrap share from its plant's quality champion. `models`: plant_id -> (booster,
    version). Plants without a champion are left out (no prediction, no quality alert), and so, with a warning, is
    a champion of an older template version (its features cannot be built) until a new version is approved."""
    from ml.templates import quality

    frames = []
    for plant_id, frame in runs.groupby("plant_id") if len(runs) else []:
        if plant_id not in models:
            continue
        model, version = models[plant_id]
        if not quality.reads_template_features(model):
            warnings.warn(f"{plant_id}: quality champion v{version} reads {model.feature_name()}, not template "
                          f"v{quality.TEMPLATE.version}'s features: no quality alerts until a new version is approved")
            continue
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

    inputs = quality.model_inputs(scored, quality.known_families(model))
    contrib = contributions(model, inputs, list(quality.FEATURES)).drop(columns="bias").mean()
    texts = []
    for feature in contrib.abs().sort_values(ascending=False).index[:top]:
        effect = 100 * float(contrib[feature])
        words = FEATURE_WORDS.get(feature, feature.replace("_", " "))
        if feature in quality.CATEGORICAL:  # a name: the runs' most common one
            common = scored[feature].dropna().astype(str).value_counts()
            value = common.index[0] if len(common) else "unknown"
        else:
            value = f"{float(scored[feature].mean()):,.2f}"
        texts.append(f"{words} = {value} {'raised' if effect >= 0 else 'lowered'} the expected "
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
        return base.no_alerts()
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
            "alert_id": base.alert_id(row["plant_id"], KIND, path),
            "condition_key": condition_key(row["plant_id"], KIND, path),
            "plant_id": row["plant_id"], "production_date": day, "asset_path": path, "kind": KIND,
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
            "status": "open", "raised_at": utc_now(),
        })
    return pd.DataFrame(rows, columns=base.ALERT_COLUMNS)


def quality_clear_days(line_days: pd.DataFrame, plants: dict[str, PlantConfig], first_day: date, last_day: date) -> pd.DataFrame:
    if line_days is None or line_days.empty:
        return base.clear_days(pd.DataFrame(), "")
    ok = line_days[~line_days["drifting"] & line_days["production_date"].between(first_day, last_day)]
    ok = ok.assign(kind=KIND, asset_path=[plants[p].isa95_path(l) for p, l in zip(ok["plant_id"], ok["line_id"])])
    return base.clear_days(ok, "scrap share back within tolerance of the quality model")
