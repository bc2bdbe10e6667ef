"""Energy baseline template (ISO 50006 energy baseline, EnB).

Predicts a plant's hourly energy from canonical features only, so one template serves every plant:
it is fit on the pooled standardized data of the fleet's other plants (the template as it stood before
this plant joined), then the plant's instance is calibrated by continued boosting (LightGBM
`init_model`) on that plant's own baseline period.

Why this shape (evidence: docs/benchmarks/ml.md): every boosting round is a single split with a linear
model in each leaf (`num_leaves: 2`), so the template is additive, one learned effect per feature. The
plant's calibration rounds correct the effects of the features its own data moves (idle load, load while
running, kWh per unit) and cannot touch the effect of a feature its data holds constant, e.g.
`heavy_units` at a plant whose first weeks made no heavy product: that effect stays the fleet's. A
from-scratch model on the same days has nothing to learn it from and prices a heavy unit like a light one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.metrics import cv_rmse, meets_ashrae_hourly, nmbe


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    version: str
    grain: str
    features: tuple[str, ...]
    target: str
    model_family: str
    params: dict = field(default_factory=dict)
    pooled_rounds: int = 300
    calibration_rounds: int = 150
    calibration: str = ""
    validation: dict = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()
    retraining: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


TEMPLATE = TemplateSpec(
    name="energy_baseline",
    version="2.0.0",
    grain="plant x production day x UTC hour",
    features=("interval_minutes", "running_minutes", "units_produced", "heavy_units", "lines_reporting"),
    target="energy_kwh",
    model_family="lightgbm (linear trees, one split per round: additive per feature)",
    calibration="continued boosting (init_model) from the template fit on the other plants, on the plant's baseline days",
    params={
        "objective": "regression",
        "learning_rate": 0.1,
        # One split per round: an additive model whose per-feature effects survive calibration (module docstring).
        "num_leaves": 2,
        "min_data_in_leaf": 20,
        "linear_tree": True,
        "linear_lambda": 0.1,
        "verbosity": -1,
        "seed": 7,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
    },
    validation={"cv_rmse_hourly_max": 0.30, "abs_nmbe_hourly_max": 0.10, "standard": "ASHRAE Guideline 14"},
    assumptions=(
        "inputs are canonical features from marts.fct_line_energy_hourly, never a plant's local tag",
        "valid for the operating range seen in the baseline period (units per hour, lines running); a feature the "
        "plant's baseline holds constant (a product family launched later) keeps the fleet's learned effect",
        "energy is attributed to the hour in which each meter interval starts",
    ),
    retraining=(
        "a new baseline period in plant.yaml",
        "feature drift: PSI > 0.2 against the training window",
        "hourly CV(RMSE) above 30% over the last 14 days",
    ),
)


def plant_hourly_features(line_hourly: pd.DataFrame) -> pd.DataFrame:
    """Aggregate line-hours to plant-hours: the template's grain."""
    grouped = (
        line_hourly.groupby(["plant_id", "production_date", "hour_utc"], as_index=False)
        .agg(
            energy_kwh=("energy_kwh", "sum"),
            units_produced=("units_produced", "sum"),
            running_minutes=("running_minutes", "sum"),
            heavy_units=("heavy_units", "sum"),
            interval_minutes=("interval_minutes", "sum"),
            lines_reporting=("line_id", "nunique"),
        )
        .sort_values(["plant_id", "hour_utc", "production_date"], kind="stable")
        .reset_index(drop=True)
    )
    for col in TEMPLATE.features:
        grouped[col] = grouped[col].astype("float64")
    return grouped


def _dataset(frame: pd.DataFrame, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    return lgb.Dataset(
        frame[list(TEMPLATE.features)],
        label=frame[TEMPLATE.target].astype("float64"),
        reference=reference,
        params={"linear_tree": True, "verbosity": -1},
        free_raw_data=False,
    )


def fit_template(pooled: pd.DataFrame) -> lgb.Booster:
    """The common template: one model on pooled standardized baseline data."""
    return lgb.train(TEMPLATE.params, _dataset(pooled), num_boost_round=TEMPLATE.pooled_rounds)


def fleet_rows(pooled: pd.DataFrame, plant_id: str) -> pd.DataFrame:
    """The template's training rows for a plant: the other plants' (the template as it stood before the plant
    joined, so its evaluation is honest); the plant's own rows only when it is the first plant of the fleet."""
    others = pooled[pooled["plant_id"] != plant_id]
    return others if len(others) else pooled[pooled["plant_id"] == plant_id]


def calibrate(template: lgb.Booster, plant_frame: pd.DataFrame) -> lgb.Booster:
    """The plant's instance: keep boosting from the template on the plant's own data (one booster: the template's
    rounds followed by the plant's, so scoring loads it like any LightGBM model)."""
    return lgb.train(
        TEMPLATE.params,
        _dataset(plant_frame),
        num_boost_round=TEMPLATE.calibration_rounds,
        init_model=template,
        keep_training_booster=True,
    )


def fit_local(plant_frame: pd.DataFrame) -> lgb.Booster:
    """A from-scratch model on the plant's own data only (the comparison calibration must beat)."""
    return lgb.train(TEMPLATE.params, _dataset(plant_frame), num_boost_round=TEMPLATE.pooled_rounds)


def bias_factor(model: lgb.Booster, plant_frame: pd.DataFrame) -> float:
    """Residual (ratio) correction: actual / predicted energy over the plant's calibration data."""
    predicted = float(predict(model, plant_frame).sum())
    return float(plant_frame[TEMPLATE.target].sum()) / predicted if predicted > 0 else 1.0


def thresholds():
    """Governance: ASHRAE G14 hourly limits, and no worse than the champion by more than 2 CV points."""
    from ml.governance import Threshold

    v = TEMPLATE.validation
    return [
        Threshold("cv_rmse_hourly", v["cv_rmse_hourly_max"], greater_is_better=False, champion_tolerance=0.02),
        Threshold("abs_nmbe_hourly", v["abs_nmbe_hourly_max"], greater_is_better=False),
    ]


def predict(model: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    return np.clip(model.predict(frame[list(TEMPLATE.features)].astype("float64")), 0.0, None)


def evaluate(model: lgb.Booster, frame: pd.DataFrame, factor: float = 1.0) -> dict[str, float]:
    actual = frame[TEMPLATE.target].to_numpy(float)
    predicted = predict(model, frame) * factor
    cv, bias = cv_rmse(actual, predicted, len(TEMPLATE.features)), nmbe(actual, predicted, len(TEMPLATE.features))
    return {
        "cv_rmse_hourly": cv, "nmbe_hourly": bias, "abs_nmbe_hourly": abs(bias),
        "meets_ashrae_g14": float(meets_ashrae_hourly(cv, bias)),
    }


def time_split(frame: pd.DataFrame, holdout_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-based holdout: the last days of the window are never seen in training."""
    days = sorted(frame["production_date"].unique())
    if len(days) < 2:
        raise ValueError(f"a time-based holdout needs at least 2 days of baseline data, got {len(days)}")
    keep = min(len(days) - 1, max(1, int(round(len(days) * (1 - holdout_share)))))  # >= 1 holdout day
    cut = days[keep - 1]
    return frame[frame["production_date"] <= cut], frame[frame["production_date"] > cut]
