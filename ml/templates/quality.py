"""Quality template: predicts the scrap share of a production run from canonical run features.

Grain: production run (marts.fct_production_run, with its product family). Pooled LightGBM on every plant's
runs, calibrated per plant by continued boosting (`init_model`), compared with a local from-scratch model on a
time-based holdout.

The product family is a free name each plant gives in plant.yaml, so it enters as a LightGBM categorical
feature: its name -> code mapping is the sorted family names of the template's training runs, stored in the
booster itself (LightGBM `pandas_categorical`, saved with the model in MLflow). Calibration and scoring encode
with that stored mapping, never their own: continued boosting on a frame coded by its own families would read
the template's trees with shifted codes. A family the model never saw is missing (NaN), not a wrong code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml import governance
from ml.training import lightgbm_champion, lightgbm_logger, time_split
from ml.use_case import AssetFacts, Candidate, UseCase

if TYPE_CHECKING:
    import lightgbm as lgb

SOURCE = "marts.fct_production_run"
FEATURES = ("duration_min", "rate_per_min", "product_family", "kwh_per_unit", "start_hour_utc")
CATEGORICAL = ("product_family",)


@dataclass(frozen=True)
class QualitySpec:
    name: str = "quality"
    version: str = "2.0.0"  # 2.0.0: product_family (any name, categorical) replaced heavy_share
    grain: str = "production run"
    features: tuple[str, ...] = FEATURES
    categorical_features: tuple[str, ...] = CATEGORICAL
    family_encoding: str = (
        "product_family: LightGBM categorical, code = position in the sorted family names of the template's training "
        "runs, stored in the model (pandas_categorical) and reused by calibration and scoring; unseen family = missing"
    )
    target: str = "scrap_share"
    model_family: str = "lightgbm regression"
    params: dict = field(default_factory=lambda: {
        "objective": "regression_l1", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 10,
        "min_data_per_group": 10, "cat_smooth": 10,  # a family with a few dozen runs can still get its own branch
        "verbosity": -1, "seed": 7, "deterministic": True, "force_row_wise": True, "num_threads": 1,
    })
    pooled_rounds: int = 200
    calibration_rounds: int = 60
    validation: dict = field(default_factory=lambda: {"mae_scrap_share_max": 0.02})
    assumptions: tuple[str, ...] = (
        "scrap share = scrap / (good + scrap) of the run; runs with no units are excluded",
        "valid for the products and rates seen in training",
        ("the family (plant.yaml's own name, categorical) rather than a fixed heavy/standard flag: plants name their "
         "families freely, and runs of one family scrap alike; plants sharing a name share its learned effect"),
    )
    retraining: tuple[str, ...] = (
        ("a product family the model has not seen (scored as missing), or a product-mix shift (PSI > 0.2 of the "
         "family shares)"),
        "holdout MAE above 2 points of scrap share over the last 14 days",
    )

    def as_dict(self) -> dict:
        return asdict(self)


TEMPLATE = QualitySpec()


def read_runs(con) -> pd.DataFrame:
    """Runs with canonical features; the product family is the mart's (registry, NULL for an unregistered product)."""
    runs = con.execute(
        "select plant_id, order_id, line_id, product_code, product_family, production_date, start_utc, end_utc, "
        f"good_qty, scrap_qty, units_produced, energy_kwh, kwh_per_unit from {SOURCE}"
    ).df()
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
    out["product_family"] = out["product_family"].astype("string") if "product_family" in out else pd.NA
    out["kwh_per_unit"] = out["kwh_per_unit"].astype(float)
    out["start_hour_utc"] = start.dt.hour.astype(float)
    out["production_date"] = pd.to_datetime(out["production_date"])
    for col in FEATURES:
        if col not in CATEGORICAL:
            out[col] = out[col].astype("float64")
    return out.sort_values(["plant_id", "start_utc"]).reset_index(drop=True)


def known_families(model: lgb.Booster) -> list[str]:
    """The model's family name -> code mapping (code = position), as LightGBM stored it with the model."""
    return list((model.pandas_categorical or [[]])[0])


def model_inputs(frame: pd.DataFrame, families: list[str]) -> pd.DataFrame:
    """The feature columns as the booster reads them: numbers as float64, the family coded by `families` (a
    name not among them becomes missing)."""
    inputs = frame[list(FEATURES)].copy()
    for col in FEATURES:
        inputs[col] = (pd.Categorical(frame[col].astype(object).where(frame[col].notna(), None), categories=families)
                       if col in CATEGORICAL else frame[col].astype("float64"))
    return inputs


def _dataset(frame: pd.DataFrame, families: list[str]) -> lgb.Dataset:
    import lightgbm as lgb

    return lgb.Dataset(model_inputs(frame, families), label=frame[TEMPLATE.target].astype(float),
                       params={"verbosity": -1}, free_raw_data=False)


def _families_of(frame: pd.DataFrame) -> list[str]:
    return sorted(str(f) for f in frame["product_family"].dropna().unique())


def fit_template(pooled: pd.DataFrame) -> lgb.Booster:
    import lightgbm as lgb

    return lgb.train(TEMPLATE.params, _dataset(pooled, _families_of(pooled)), num_boost_round=TEMPLATE.pooled_rounds)


def calibrate(template: lgb.Booster, plant_frame: pd.DataFrame) -> lgb.Booster:
    import lightgbm as lgb

    # the template's own family codes: the continued trees and the template's must read one mapping
    return lgb.train(TEMPLATE.params, _dataset(plant_frame, known_families(template)),
                     num_boost_round=TEMPLATE.calibration_rounds, init_model=template, keep_training_booster=True)


def fit_local(plant_frame: pd.DataFrame) -> lgb.Booster:
    import lightgbm as lgb

    return lgb.train(TEMPLATE.params, _dataset(plant_frame, _families_of(plant_frame)),
                     num_boost_round=TEMPLATE.pooled_rounds)


def reads_template_features(model: lgb.Booster) -> bool:
    """False for a model of an older template version (v1 read heavy_share): its inputs cannot be built."""
    return list(model.feature_name()) == list(FEATURES)


def predict(model: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    if not reads_template_features(model):
        raise ValueError(f"the model reads {model.feature_name()}, template v{TEMPLATE.version} builds {list(FEATURES)}: "
                         "train the plant's quality model again and approve it")
    return np.clip(model.predict(model_inputs(frame, known_families(model))), 0.0, 1.0)


def evaluate(model: lgb.Booster, frame: pd.DataFrame) -> dict[str, float]:
    actual = frame[TEMPLATE.target].to_numpy(float)
    predicted = predict(model, frame)
    return {
        "mae_scrap_share": float(np.mean(np.abs(actual - predicted))),
        "bias_scrap_share": float(np.mean(actual - predicted)),
        "runs": float(len(frame)),
    }


def thresholds():
    return [governance.Threshold("mae_scrap_share", TEMPLATE.validation["mae_scrap_share_max"], greater_is_better=False, champion_tolerance=0.005)]


def evaluate_candidates(runs: pd.DataFrame, plant_id: str) -> tuple[dict, pd.DataFrame]:
    """Template-only vs calibrated vs local-from-scratch on the plant's time-based holdout. The template is fit
    on every plant's training days; a plant with a single day of runs has nothing to hold out and all of its
    runs train the template (it cannot be the plant evaluated: that one must have a holdout)."""
    train_parts, holdouts = [], {}
    for pid, frame in runs.groupby("plant_id"):
        if pid != plant_id and frame["production_date"].nunique() < 2:
            train_parts.append(frame)
            continue
        train, holdout = time_split(frame)
        train_parts.append(train)
        holdouts[pid] = holdout
    pooled_train = pd.concat(train_parts, ignore_index=True)
    plant_train, holdout = pooled_train[pooled_train["plant_id"] == plant_id], holdouts[plant_id]
    pooled_model = fit_template(pooled_train)
    models = {"template": pooled_model, "calibrated": calibrate(pooled_model, plant_train), "local": fit_local(plant_train)}
    metrics = {f"{v}_{k}": x for v, m in models.items() for k, x in evaluate(m, holdout).items()}
    metrics["adjustment_mae_points"] = 100 * (metrics["template_mae_scrap_share"] - metrics["calibrated_mae_scrap_share"])
    return metrics, holdout


def model_card(plant_id: str, metrics: dict, window: tuple[str, str], families: list[str] = ()) -> str:
    spec = TEMPLATE
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()))
    return (f"# quality for {plant_id}\n\n**Template** `{spec.name}` v{spec.version} ({spec.model_family}), calibrated by "
            f"continued boosting on {plant_id}'s runs {window[0]} to {window[1]}. Predicts {spec.target} per run.\n\n"
            f"**Product families it knows** (categorical, any other is scored as missing): {', '.join(families) or 'none'}\n\n"
            f"**Decision**: {{decision}}\n\n| metric | value |\n|---|---|\n{rows}\n\nAcceptance: holdout MAE <= "
            f"{spec.validation['mae_scrap_share_max']:.0%} scrap share.\n")


class Quality(UseCase):
    spec = TEMPLATE
    title = "Scrap share per production run"
    asset = AssetFacts(
        name="quality_model",
        kinds=("lightgbm", "mlflow"),
        reads=(SOURCE,),
        description="The quality template (ml/templates/quality.py): scrap share per production run, pooled LightGBM "
        "calibrated on this plant by continued boosting, registered in MLflow as `quality.<plant>`.",
    )

    def read(self, con, plants: dict) -> pd.DataFrame:
        return read_runs(con)

    def missing_data(self, data: pd.DataFrame, plant) -> str | None:
        if data[data["plant_id"] == plant.plant_id]["production_date"].nunique() < 4:
            return f"{plant.plant_id}: fewer than 4 days of production runs"
        return None

    def fingerprint_rows(self, data: pd.DataFrame) -> pd.DataFrame:
        return data[list(FEATURES) + ["scrap_share"]]

    def candidate(self, client, name: str, plant, runs: pd.DataFrame) -> Candidate:
        plant_id = plant.plant_id
        metrics, holdout = evaluate_candidates(runs, plant_id)
        champion = lightgbm_champion(client, name)  # evaluated on the candidate's holdout: a fair comparison
        plant_rows = runs[runs["plant_id"] == plant_id]
        final = calibrate(fit_template(runs), plant_rows)
        window = (str(plant_rows["production_date"].min().date()), str(plant_rows["production_date"].max().date()))
        return Candidate(
            log_model=lightgbm_logger(final, model_inputs(plant_rows, known_families(final)), predict(final, plant_rows)),
            dataset=plant_rows[["plant_id", "order_id", "production_date", *FEATURES, TEMPLATE.target]], target=TEMPLATE.target,
            metrics=metrics,
            candidate_metrics={k[len("calibrated_"):]: v for k, v in metrics.items() if k.startswith("calibrated_")},
            # a champion of an older template version cannot read today's features: nothing to compare with
            champion_metrics=None if champion is None or not reads_template_features(champion) else evaluate(champion, holdout),
            thresholds=thresholds(), window=window, card=model_card(plant_id, metrics, window, known_families(final)),
        )


USE_CASE = Quality()
