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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml import drift, governance, model_registry
from ml.metrics import cv_rmse, lag1_autocorrelation, meets_ashrae_hourly, nmbe
from ml.training import lightgbm_champion, lightgbm_logger, load_lightgbm, time_split
from ml.use_case import (
    AssetFacts,
    Candidate,
    DriftMonitor,
    Markdown,
    UseCase,
    metrics_table,
)

if TYPE_CHECKING:
    import lightgbm as lgb

SOURCE = "marts.fct_line_energy_hourly"


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


def read_plant_hours(con) -> pd.DataFrame:
    """Every plant-hour of the warehouse at the template's grain, every day."""
    hourly = plant_hourly_features(con.execute(f"select * from {SOURCE} order by plant_id, line_id, hour_utc").df())
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    return hourly


def baseline_period_rows(hourly: pd.DataFrame, plants: dict) -> pd.DataFrame:
    """Each plant's rows inside its own configured baseline period (ISO 50006)."""
    keep = []
    for plant_id, plant in plants.items():
        rows = hourly[
            (hourly["plant_id"] == plant_id)
            & (hourly["production_date"] >= pd.Timestamp(plant.energy_baseline.start))
            & (hourly["production_date"] <= pd.Timestamp(plant.energy_baseline.end))
        ]
        keep.append(rows)
    return pd.concat(keep, ignore_index=True) if keep else hourly.iloc[0:0]


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
    import lightgbm as lgb

    return lgb.Dataset(
        frame[list(TEMPLATE.features)],
        label=frame[TEMPLATE.target].astype("float64"),
        reference=reference,
        params={"linear_tree": True, "verbosity": -1},
        free_raw_data=False,
    )


def fit_template(pooled: pd.DataFrame) -> lgb.Booster:
    """The common template: one model on pooled standardized baseline data."""
    import lightgbm as lgb

    return lgb.train(TEMPLATE.params, _dataset(pooled), num_boost_round=TEMPLATE.pooled_rounds)


def fleet_rows(pooled: pd.DataFrame, plant_id: str) -> pd.DataFrame:
    """The template's training rows for a plant: the other plants' (the template as it stood before the plant
    joined, so its evaluation is honest); the plant's own rows only when it is the first plant of the fleet."""
    others = pooled[pooled["plant_id"] != plant_id]
    return others if len(others) else pooled[pooled["plant_id"] == plant_id]


def calibrate(template: lgb.Booster, plant_frame: pd.DataFrame) -> lgb.Booster:
    """The plant's instance: keep boosting from the template on the plant's own data (one booster: the template's
    rounds followed by the plant's, so scoring loads it like any LightGBM model)."""
    import lightgbm as lgb

    return lgb.train(
        TEMPLATE.params,
        _dataset(plant_frame),
        num_boost_round=TEMPLATE.calibration_rounds,
        init_model=template,
        keep_training_booster=True,
    )


def fit_local(plant_frame: pd.DataFrame) -> lgb.Booster:
    """A from-scratch model on the plant's own data only (the comparison calibration must beat)."""
    import lightgbm as lgb

    return lgb.train(TEMPLATE.params, _dataset(plant_frame), num_boost_round=TEMPLATE.pooled_rounds)


def bias_factor(model: lgb.Booster, plant_frame: pd.DataFrame) -> float:
    """Residual (ratio) correction: actual / predicted energy over the plant's calibration data."""
    predicted = float(predict(model, plant_frame).sum())
    return float(plant_frame[TEMPLATE.target].sum()) / predicted if predicted > 0 else 1.0


def thresholds():
    """Governance: ASHRAE G14 hourly limits, and no worse than the champion by more than 2 CV points."""
    v = TEMPLATE.validation
    return [
        governance.Threshold("cv_rmse_hourly", v["cv_rmse_hourly_max"], greater_is_better=False, champion_tolerance=0.02),
        governance.Threshold("abs_nmbe_hourly", v["abs_nmbe_hourly_max"], greater_is_better=False),
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


def evaluate_candidates(pooled: pd.DataFrame, plant_id: str) -> tuple[dict, pd.DataFrame, dict]:
    """Template-only vs calibrated vs local-from-scratch on the plant's time-based holdout (ASHRAE G14).
    Template only = the template fit on the other plants' baseline periods (as it stood before this plant joined);
    calibrated = that template boosted on the plant's training days; local = from scratch on the same days."""
    train_parts, holdouts = [], {}
    for pid, frame in pooled.groupby("plant_id"):
        train, holdout = time_split(frame)
        train_parts.append(train)
        holdouts[pid] = holdout
    pooled_train = pd.concat(train_parts, ignore_index=True)
    plant_train = pooled_train[pooled_train["plant_id"] == plant_id]
    holdout = holdouts[plant_id]

    # The other plants' whole baseline periods (never this plant's holdout, even for a fleet of one).
    fleet = pd.concat([pooled[pooled["plant_id"] != plant_id], plant_train], ignore_index=True)
    template_model = fit_template(fleet_rows(fleet, plant_id))
    calibrated_model = calibrate(template_model, plant_train)
    local_model = fit_local(plant_train)
    results = {
        "template": evaluate(template_model, holdout),
        "calibrated": evaluate(calibrated_model, holdout),
        "local": evaluate(local_model, holdout),
        # Evidence for the calibration method: a residual (ratio) correction instead of, or on top of, boosting.
        "residual_corrected": evaluate(template_model, holdout, bias_factor(template_model, plant_train)),
        "boosted_and_residual": evaluate(calibrated_model, holdout, bias_factor(calibrated_model, plant_train)),
    }
    metrics = {f"{variant}_{k}": v for variant, values in results.items() for k, v in values.items()}
    metrics["adjustment_cv_rmse_points"] = 100 * (results["template"]["cv_rmse_hourly"] - results["calibrated"]["cv_rmse_hourly"])
    metrics["adjustment_nmbe_points"] = 100 * (abs(results["template"]["nmbe_hourly"]) - abs(results["calibrated"]["nmbe_hourly"]))
    # For the savings band (ASHRAE G14 Annex B): out-of-sample residual autocorrelation and baseline size.
    ordered = holdout.sort_values([c for c in ("production_date", "hour_utc") if c in holdout.columns])
    residuals = ordered[TEMPLATE.target].to_numpy(float) - predict(calibrated_model, ordered)
    metrics["calibrated_residual_rho1_hourly"] = lag1_autocorrelation(residuals)
    metrics["baseline_hours"] = float((pooled["plant_id"] == plant_id).sum())
    metrics["calibrated_daily_rmse_kwh_oos"] = daily_out_of_sample_rmse(template_model, pooled[pooled["plant_id"] == plant_id])
    predictions = {
        "actual": holdout[TEMPLATE.target].to_numpy(),
        "template": predict(template_model, holdout),
        "calibrated": predict(calibrated_model, holdout),
    }
    return metrics, holdout, predictions


def daily_out_of_sample_rmse(template_model, plant_baseline: pd.DataFrame) -> float:
    """RMS error of whole-day energy when each baseline day is predicted by a calibration that never saw it
    (leave one day out). A day's hours share their conditions, so their errors add up rather than cancel: this is
    the error a daily savings figure carries, which hourly CV(RMSE) with lag-1 autocorrelation understates."""
    days = sorted(plant_baseline["production_date"].unique())
    if len(days) < 3:
        return float("nan")
    errors = []
    for day in days:
        seen, unseen = plant_baseline[plant_baseline["production_date"] != day], plant_baseline[plant_baseline["production_date"] == day]
        model = calibrate(template_model, seen)
        errors.append(float(unseen[TEMPLATE.target].sum() - predict(model, unseen).sum()))
    return float(np.sqrt(np.mean(np.square(errors))))


def model_card(plant_id: str, template: dict, metrics: dict, window: tuple[str, str], decision: str) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()))
    assumptions = "\n".join(f"- {a}" for a in template["assumptions"])
    retraining = "\n".join(f"- {r}" for r in template["retraining"])
    return f"""# {template['name']} for {plant_id}

**Template** `{template['name']}` v{template['version']} ({template['model_family']}), calibrated on
{plant_id}'s baseline period {window[0]} to {window[1]} by continued boosting from the pooled template.

**Predicts** `{template['target']}` per {template['grain']} from canonical features
{', '.join(template['features'])}.

**Decision**: {decision}

## Holdout metrics (time-based, last 25% of the baseline days)
| metric | value |
|---|---|
{rows}

Acceptance: ASHRAE Guideline 14 hourly CV(RMSE) <= 30% and |NMBE| <= 10%.

## Assumptions
{assumptions}

## Retraining rules
{retraining}
"""


class EnergyDrift(DriftMonitor):
    """Nightly drift check of a plant's champion: feature PSI against its training window and performance
    decay on the most recent days, against the template's retraining rules."""

    asset = AssetFacts(
        name="energy_model_drift",
        kinds=("python", "duckdb", "mlflow"),
        description="Nightly drift check of the plant's champion energy baseline: feature drift (PSI of the last "
        "days against the training window) and performance decay (hourly CV(RMSE) / NMBE of the champion on the "
        "last days). A crossed retraining rule opens an incident in actions.model_incidents and, when the plant's "
        "models.retrain_on_drift allows it, trains a new challenger on the recent window.",
    )

    def read(self, con) -> pd.DataFrame:
        return read_plant_hours(con)

    def report(self, client, plant, plant_rows: pd.DataFrame) -> dict:
        """PSI of each template feature (last `drift_window_days` after the training window vs the window)
        and the champion's hourly CV(RMSE) / NMBE on those days; `crossed` lists the retraining rules hit."""
        return drift.champion_drift(
            client, model_registry.registered_model_name(TEMPLATE.name, plant.plant_id), plant_rows, plant.models.drift_window_days,
            features=[f for f in TEMPLATE.features if f != "interval_minutes"],  # metering length is not a driver
            limits={"cv_rmse_hourly": TEMPLATE.validation["cv_rmse_hourly_max"], "abs_nmbe_hourly": TEMPLATE.validation["abs_nmbe_hourly_max"]},
            load_model=load_lightgbm, evaluate=evaluate,
        )

    def challenger(self, rows: pd.DataFrame, plant, plants: dict) -> tuple:
        """The plant's last `drift_window_days` as its new baseline period (never auto-promoted), pooled with
        the other plants' baseline periods."""
        recent = rows[rows["plant_id"] == plant.plant_id]
        recent = recent[recent["production_date"] >= recent["production_date"].max() - pd.Timedelta(days=plant.models.drift_window_days - 1)]
        others = {k: v for k, v in plants.items() if k != plant.plant_id}
        pooled = pd.concat([baseline_period_rows(rows, others), recent], ignore_index=True)
        period = type(plant.energy_baseline)(start=recent["production_date"].min().date(), end=recent["production_date"].max().date())
        challenger_plant = plant.model_copy(update={
            "models": plant.models.model_copy(update={"auto_promote": False}), "energy_baseline": period,
        })
        return challenger_plant, pooled


class EnergyBaseline(UseCase):
    spec = TEMPLATE
    title = "Energy baseline (ISO 50006 EnB)"
    fail_without_data = True  # a plant with a baseline period and no data there is a configuration error
    drift = EnergyDrift()
    asset = AssetFacts(
        name="energy_baseline_model",
        kinds=("lightgbm", "mlflow"),
        reads=(SOURCE,),
        description="The energy baseline template (ml/templates/energy_baseline.py) fit on the other plants' baseline "
        "periods (the template as it stood before this plant joined), calibrated on this plant's baseline period by "
        "continued boosting, evaluated on a time-based holdout against ASHRAE Guideline 14 (template only vs "
        "calibrated vs from scratch), and registered in MLflow as `energy_baseline.<plant>`.",
    )

    def read(self, con, plants: dict) -> pd.DataFrame:
        return baseline_period_rows(read_plant_hours(con), plants)

    def missing_data(self, data: pd.DataFrame, plant) -> str | None:
        if data[data["plant_id"] == plant.plant_id].empty:
            return f"{plant.plant_id}: no standardized data in its baseline period {plant.energy_baseline}"
        return None

    def candidate(self, client, name: str, plant, pooled: pd.DataFrame) -> Candidate:
        from ml.plots import feature_importance_plot, markdown_image, residual_plot

        plant_id = plant.plant_id
        metrics, holdout, predictions = evaluate_candidates(pooled, plant_id)
        champion = lightgbm_champion(client, name)  # evaluated on the candidate's holdout: a fair comparison
        # The registered instance uses every baseline day: template on the other plants, calibration on this one.
        plant_rows = pooled[pooled["plant_id"] == plant_id]
        final_model = calibrate(fit_template(fleet_rows(pooled, plant_id)), plant_rows)
        window = (str(plant.energy_baseline.start), str(plant.energy_baseline.end))
        residuals = residual_plot(
            predictions["actual"], predictions["template"], predictions["calibrated"],
            f"{name}: holdout residuals, template vs calibrated",
        )
        importance = feature_importance_plot(
            list(TEMPLATE.features), final_model.feature_importance("gain"), f"{name}: feature importance (gain)"
        )
        return Candidate(
            log_model=lightgbm_logger(final_model, plant_rows[list(TEMPLATE.features)], predict(final_model, plant_rows)),
            dataset=plant_rows, target=TEMPLATE.target, metrics=metrics,
            candidate_metrics={k[len("calibrated_"):]: v for k, v in metrics.items() if k.startswith("calibrated_")},
            champion_metrics=None if champion is None else evaluate(champion, holdout),
            thresholds=thresholds(), window=window,
            card=model_card(plant_id, TEMPLATE.as_dict(), metrics, window, "{decision}"),
            plots={"residuals.png": residuals, "feature_importance.png": importance},
            outcome={"plot_markdown": markdown_image(residuals, "holdout residuals")},
        )

    def report(self, outcome: dict, data: pd.DataFrame, plant_id: str, connect) -> dict:
        metrics = outcome["metrics"]
        return {
            "registered_model": outcome["model_name"],
            "version": str(outcome["version"]),
            "alias": outcome["alias"] or "none",
            "decision": outcome["decision"],
            "reused_existing_version": outcome["reused"],
            "metrics": Markdown(metrics_table(metrics)),
            "cv_rmse_hourly": float(metrics["calibrated_cv_rmse_hourly"]),
            "model_adjustment_cv_rmse_points": float(metrics["adjustment_cv_rmse_points"]),
            "residuals": Markdown(outcome["plot_markdown"]) if outcome.get("plot_markdown") else "",
            "mlflow_run_id": outcome["run_id"],
        }


USE_CASE = EnergyBaseline()
