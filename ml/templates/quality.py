"""Quality template: predicts the scrap share of a production run from canonical run features.

Grain: production run (marts.fct_production_run joined with the product registry). Pooled LightGBM on
every plant's runs, calibrated per plant by continued boosting (`init_model`), compared with a local
from-scratch model on a time-based holdout.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

FEATURES = ("duration_min", "rate_per_min", "heavy_share", "kwh_per_unit", "start_hour_utc")


@dataclass(frozen=True)
class QualitySpec:
    name: str = "quality"
    version: str = "1.0.0"
    grain: str = "production run"
    features: tuple[str, ...] = FEATURES
    target: str = "scrap_share"
    model_family: str = "lightgbm regression"
    params: dict = field(default_factory=lambda: {
        "objective": "regression_l1", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 10,
        "verbosity": -1, "seed": 7, "deterministic": True, "force_row_wise": True, "num_threads": 1,
    })
    pooled_rounds: int = 200
    calibration_rounds: int = 60
    validation: dict = field(default_factory=lambda: {"mae_scrap_share_max": 0.02})
    assumptions: tuple[str, ...] = (
        "scrap share = scrap / (good + scrap) of the run; runs with no units are excluded",
        "valid for the products and rates seen in training",
    )
    retraining: tuple[str, ...] = (
        "a new product or a product-mix shift (PSI > 0.2 of heavy_share)",
        "holdout MAE above 2 points of scrap share over the last 14 days",
    )

    def as_dict(self) -> dict:
        return asdict(self)


TEMPLATE = QualitySpec()


def read_runs(con) -> pd.DataFrame:
    """Runs with canonical features; the product family comes from the registry (lake/registry/products)."""
    runs = con.execute(
        "select plant_id, order_id, line_id, product_code, production_date, start_utc, end_utc, good_qty, "
        "scrap_qty, units_produced, energy_kwh, kwh_per_unit from marts.fct_production_run"
    ).df()
    try:
        products = con.execute("select plant_id, product_code, family from staging.stg_registry__products").df()
        runs = runs.merge(products, on=["plant_id", "product_code"], how="left")
    except Exception:  # registry view not there: fall back to the product code
        runs["family"] = "standard"
    return features(runs)


def features(runs: pd.DataFrame) -> pd.DataFrame:
    out = runs.copy()
    total = out["good_qty"].astype(float) + out["scrap_qty"].astype(float)
    out = out[total > 0].copy()
    total = total[total > 0]
    out["scrap_share"] = out["scrap_qty"].astype(float) / total
    start, end = pd.to_datetime(out["start_utc"]), pd.to_datetime(out["end_utc"])
    out["duration_min"] = (end - start).dt.total_seconds() / 60.0
    out["rate_per_min"] = total / out["duration_min"].clip(lower=1.0)
    out["heavy_share"] = (out.get("family", pd.Series("standard", index=out.index)) == "heavy").astype(float)
    out["kwh_per_unit"] = out["kwh_per_unit"].astype(float)
    out["start_hour_utc"] = start.dt.hour.astype(float)
    out["production_date"] = pd.to_datetime(out["production_date"])
    for col in FEATURES:
        out[col] = out[col].astype("float64")
    return out.sort_values(["plant_id", "start_utc"]).reset_index(drop=True)


def _dataset(frame: pd.DataFrame) -> lgb.Dataset:
    return lgb.Dataset(frame[list(FEATURES)], label=frame[TEMPLATE.target].astype(float), params={"verbosity": -1}, free_raw_data=False)


def fit_template(pooled: pd.DataFrame) -> lgb.Booster:
    return lgb.train(TEMPLATE.params, _dataset(pooled), num_boost_round=TEMPLATE.pooled_rounds)


def calibrate(template: lgb.Booster, plant_frame: pd.DataFrame) -> lgb.Booster:
    return lgb.train(TEMPLATE.params, _dataset(plant_frame), num_boost_round=TEMPLATE.calibration_rounds,
                     init_model=template, keep_training_booster=True)


def fit_local(plant_frame: pd.DataFrame) -> lgb.Booster:
    return lgb.train(TEMPLATE.params, _dataset(plant_frame), num_boost_round=TEMPLATE.pooled_rounds)


def predict(model: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    return np.clip(model.predict(frame[list(FEATURES)].astype("float64")), 0.0, 1.0)


def evaluate(model: lgb.Booster, frame: pd.DataFrame) -> dict[str, float]:
    actual = frame[TEMPLATE.target].to_numpy(float)
    predicted = predict(model, frame)
    return {
        "mae_scrap_share": float(np.mean(np.abs(actual - predicted))),
        "bias_scrap_share": float(np.mean(actual - predicted)),
        "runs": float(len(frame)),
    }


def thresholds():
    from ml.governance import Threshold

    return [Threshold("mae_scrap_share", TEMPLATE.validation["mae_scrap_share_max"], greater_is_better=False, champion_tolerance=0.005)]


def time_split(frame: pd.DataFrame, holdout_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    days = sorted(frame["production_date"].unique())
    cut = days[max(1, int(round(len(days) * (1 - holdout_share)))) - 1]
    return frame[frame["production_date"] <= cut], frame[frame["production_date"] > cut]
