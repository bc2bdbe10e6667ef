"""Top drivers of a LightGBM prediction (`pred_contrib=True`), in words an operator understands."""

from __future__ import annotations

import numpy as np
import pandas as pd

# How an operator reads each canonical feature; unknown features fall back to their name.
FEATURE_WORDS = {
    "units_produced": "units produced",
    "running_minutes": "line running time (minutes)",
    "running_minutes_by_state": "running time by the state tags (minutes)",
    "hour_of_week": "hour of the week",
    "day_of_week": "day of the week (0 = Monday)",
    "non_working_day": "holiday or shutdown",
    "hdh": "heating degree hours", "cdh": "cooling degree hours",
    "hdd": "heating degree days", "cdd": "cooling degree days",
    "metered_minutes_of_day": "metered minutes",
    "interval_minutes": "metered minutes",
    "lines_reporting": "lines reporting",
    "duration_min": "run length (minutes)",
    "product_family": "product family",
    "rate_per_min": "production rate (units/min)",
    "vibration_ratio": "vibration vs the motor's normal level",
    "vibration_max_ratio": "peak vibration vs the motor's normal level",
    "temperature_delta_c": "bearing temperature above normal (°C)",
    "current_ratio": "motor current vs normal",
}


def feature_words(feature: str) -> str:
    """How an operator reads a feature: a known name, a driver signal (`drv_water_flow`: "water flow"), the output
    of a product family (`units_can_12oz`: "units of product family can_12oz"), else the name itself."""
    if feature in FEATURE_WORDS:
        return FEATURE_WORDS[feature]
    if feature.startswith("drv_"):
        return feature[len("drv_"):].replace("_", " ")
    if feature.startswith("units_"):
        return f"units of product family {feature[len('units_'):]}"
    return feature.replace("_", " ")


LEVEL_FEATURES = frozenset({"hour_of_week", "day_of_week", "non_working_day"})


def contributions(booster, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Per-row SHAP-style contributions (one column per feature plus `bias`); rows sum to the raw prediction."""
    import lightgbm as lgb

    x = frame[features]
    # numbers as float64; a categorical column (quality's product_family) stays coded as the booster stored it
    x = x.astype({c: "float64" for c in features if not isinstance(x[c].dtype, pd.CategoricalDtype)})
    if _is_linear(booster):
        # LightGBM has no SHAP for linear trees: explain a constant-leaf surrogate fit to the model's own
        # predictions on these rows (its contributions sum to the surrogate's prediction, close to the model's).
        surrogate = lgb.train(
            {"objective": "regression", "num_leaves": 15, "min_data_in_leaf": 5, "learning_rate": 0.1, "verbosity": -1,
             "seed": 7, "deterministic": True, "force_row_wise": True, "num_threads": 1},
            lgb.Dataset(x, label=booster.predict(x), params={"verbosity": -1}), num_boost_round=200,
        )
        booster = surrogate
    values = booster.predict(x, pred_contrib=True)
    return pd.DataFrame(np.asarray(values), columns=[*features, "bias"], index=frame.index)


def _is_linear(booster) -> bool:
    params = getattr(booster, "params", {}) or {}
    if "linear_tree" in params:
        return str(params["linear_tree"]).lower() in ("true", "1")
    return "is_linear=1" in booster.model_to_string(num_iteration=1)


def top_drivers(contrib: pd.Series | dict, values: pd.Series | dict, unit: str = "kWh", top: int = 3) -> list[dict]:
    """The `top` features that moved this prediction most, with a sentence each."""
    contrib = pd.Series(contrib).drop(labels=["bias"], errors="ignore")
    order = contrib.abs().sort_values(ascending=False).index[:top]
    out = []
    for feature in order:
        effect = float(contrib[feature])
        words = feature_words(feature)
        value = float(pd.Series(values).get(feature, np.nan))
        direction = "raised" if effect >= 0 else "lowered"
        out.append({
            "feature": feature,
            "value": round(value, 3) if np.isfinite(value) else None,
            "effect": round(effect, 2),
            "text": f"{words} = {value:,.1f} {direction} the expected energy by {abs(effect):,.1f} {unit} (vs an average period)",
        })
    return out


def daily_drivers(booster, hours: pd.DataFrame, features: list[str], unit: str = "kWh", top: int = 3) -> dict:
    """Top drivers of each plant-day's expected energy: the hourly contributions summed per day.
    Returns {production_date: [driver, ...]} with feature values summed per day."""
    contrib = contributions(booster, hours, features)
    contrib["production_date"] = hours["production_date"].to_numpy()
    summed = contrib.groupby("production_date").sum()
    # A level (calendar position, a flow, a temperature) is averaged over the day; amounts are summed.
    levels = [f for f in features if f in LEVEL_FEATURES or f.startswith("drv_")]
    grouped = hours.groupby("production_date")
    values = grouped[[f for f in features if f not in levels]].sum().join(grouped[levels].mean())
    return {day: top_drivers(summed.loc[day], values.loc[day], unit=unit, top=top) for day in summed.index}
