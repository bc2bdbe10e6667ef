"""Energy baseline template (ISO 50006 energy baseline, EnB): one template for any plant, calibrated per plant.

What it predicts and from what is decided from each plant's own data (ml/templates/_energy_variables.py):
- the grain: hourly where the plant meters energy through the day, daily where it reports a value a day, each
  with its acceptance limits;
- the relevant variables: candidates are what the plant maps (output, output per product family, running
  time, the calendar and its holidays, weather as degree hours / days, every other continuous driver), kept
  only where the plant's baseline shows they matter (forward selection on out-of-fold error).

The template is fit on the other plants' baseline periods at that grain and on those variables (the template as
it stood before the plant joined; a variable another plant lacks is missing there, not 0). Every boosting round
is one split with a linear model in each leaf (`num_leaves: 2`): an additive model, one effect per variable.

Calibration (v3.1, `calibrate`): the plant's own baseline decides the effect of every variable it shows; the
template supplies the effect of each kept variable the baseline holds constant while the fleet saw it vary (a
product family the plant's first weeks never made), distilled into the plant's booster on its own rows. Up to
v3.0 the instance was the template boosted further on the plant's data; where the fleet's effects are wrong for
the plant, that converges slowly and the plant's evidence lost: on the e2e plant_a a starved low-output day was
expected at 18.4 MWh after 150 rounds (16.8 MWh after 1,200) against a true 15.8 MWh, which its own data gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml import drift, governance, model_registry
from ml.metrics import cv_rmse, lag1_autocorrelation, nmbe
from ml.templates._energy_card import model_card
from ml.templates._energy_frame import ENERGY_HOURLY, FAMILY_OUTPUT, DRIVERS, read_hourly, to_daily, with_calendar_and_weather
from ml.templates._energy_variables import (
    GRAINS, SELECTION_RULE, Evidence, candidate_groups, choose_grain, forward_select, grain_of_features, is_constant,
)
from ml.training import lightgbm_champion, lightgbm_logger, load_lightgbm, time_split
from ml.use_case import AssetFacts, Candidate, DriftMonitor, Markdown, UseCase, metrics_table

if TYPE_CHECKING:
    import lightgbm as lgb

SOURCES = (ENERGY_HOURLY, FAMILY_OUTPUT, DRIVERS)
CATEGORICAL = ("hour_of_week", "day_of_week")
LITTLE_DATA_DAYS = 14


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    version: str
    grain: str
    candidate_variables: tuple[str, ...]
    selection: str
    target: str
    model_family: str
    params: dict = field(default_factory=dict)
    pooled_rounds: int = 300
    calibration_rounds: int = 150  # distilling the template's fleet-only effects into the plant's booster
    distillation_points: int = 9  # values per fleet-only variable, across the range the template saw
    selection_rounds: int = 100
    calibration: str = ""
    validation: dict = field(default_factory=dict)
    assumptions: tuple[str, ...] = ()
    retraining: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


TEMPLATE = TemplateSpec(
    name="energy_baseline",
    version="3.1.0",
    grain="plant x UTC hour (hourly) or plant x production day (daily), from the plant's metering",
    candidate_variables=(
        "output: units_produced (a production counter)", "product_mix: units per product family (free names)",
        "running_time: running_minutes (counter) or running_minutes_by_state (state tags)",
        "calendar: hour_of_week / day_of_week, non_working_day (plant.yaml calendar)",
        "weather: heating / cooling degree hours or days against 18 degC (outdoor_temperature)",
        "driver:<signal>: the mean of each other continuous line signal mapped (flows, loads, speeds)",
    ),
    selection=SELECTION_RULE,
    target="energy_kwh",
    model_family="lightgbm (linear trees, one split per round: additive per variable)",
    calibration="the plant's baseline days decide every effect they show; a kept variable they hold constant (a family "
    "not yet made) keeps the template's effect, distilled on the plant's rows (continued boosting, init_model)",
    params={
        "objective": "regression",
        "learning_rate": 0.1,
        # One split per round: an additive model whose per-variable effects survive calibration (module docstring).
        "num_leaves": 2,
        "min_data_in_leaf": 5,
        "linear_tree": True,
        "linear_lambda": 0.1,
        "verbosity": -1,
        "seed": 7,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        # hour of week as a category: every hour may be its own group (a baseline has few rows per hour of week)
        "min_data_per_group": 3,
        "cat_smooth": 1.0,
        "max_cat_threshold": 84,
    },
    validation={grain.name: {"cv_rmse_max": grain.cv_rmse_max, "abs_nmbe_max": grain.abs_nmbe_max, "limits": grain.limits}
                for grain in GRAINS.values()},
    assumptions=(
        "inputs are canonical variables from the marts, never a plant's local tag; a variable a plant does not map is absent",
        "valid for the operating range seen in the baseline period; a product family the baseline never made keeps the "
        "fleet's learned effect",
        "energy is attributed to the hour (day) in which each meter interval starts",
    ),
    retraining=(
        "a new baseline period in plant.yaml",
        "feature drift: PSI > 0.2 of a kept variable against the training window",
        "CV(RMSE) above the grain's limit over the last 14 days",
    ),
)


def read_plant_hours(con, plants: dict | None = None, first_day=None, last_day=None) -> pd.DataFrame:
    """Every plant-hour with its candidate variables (calendar and weather need each plant's config)."""
    return with_calendar_and_weather(read_hourly(con, first_day, last_day), plants or {})


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


def at_grain(hourly: pd.DataFrame, grain: str) -> pd.DataFrame:
    return to_daily(hourly) if grain == "daily" else hourly


def with_columns(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """`frame` with every feature column (a variable the plant does not have is missing: NaN)."""
    absent = [f for f in features if f not in frame.columns]
    return frame.assign(**{f: np.nan for f in absent}) if absent else frame


def _dataset(frame: pd.DataFrame, features: list[str]) -> lgb.Dataset:
    import lightgbm as lgb

    frame = with_columns(frame, features)
    # The hour (day) of week is a category: one split can set apart any set of hours (the shifts), where as a
    # number it would take dozens of one-split rounds to draw a weekly profile.
    categorical = [f for f in features if f in CATEGORICAL]
    return lgb.Dataset(frame[features].astype("float64"), label=frame[TEMPLATE.target].astype("float64"),
                       categorical_feature=categorical or "auto",
                       params={"linear_tree": True, "verbosity": -1, "min_data_in_bin": 1},
                       free_raw_data=False)


def fit(frame: pd.DataFrame, features: list[str], rounds: int = TEMPLATE.pooled_rounds, init_model=None) -> lgb.Booster:
    import lightgbm as lgb

    return lgb.train(TEMPLATE.params, _dataset(frame, features), num_boost_round=rounds, init_model=init_model,
                     keep_training_booster=init_model is not None)


def fleet_only_variables(template: lgb.Booster, plant_frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Variables the plant's rows hold constant but the template saw vary (a product family the plant has not made
    yet), with the range the template saw: their effect can only come from the fleet."""
    infos = template.dump_model()["feature_infos"]
    out = {}
    for feature in template.feature_name():
        info = infos.get(feature, {})
        if feature in CATEGORICAL or "min_value" not in info or info["min_value"] >= info["max_value"]:
            continue
        values = plant_frame[feature] if feature in plant_frame.columns else pd.Series(np.nan, index=plant_frame.index)
        if values.nunique(dropna=False) <= 1:  # one value, or never present (missing: no unit of that family)
            out[feature] = (float(info["min_value"]), float(info["max_value"]))
    return out


def _distillation_rows(template: lgb.Booster, own: lgb.Booster, plant_frame: pd.DataFrame,
                       variables: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """The plant's rows with one fleet-only variable moved across the template's range (one copy per value), labelled
    with the plant's own expectation plus the template's effect of that move. The template is additive (one
    variable per round), so the effect is the difference of its two predictions."""
    features = template.feature_name()
    rows = with_columns(plant_frame, features)
    raw = lambda model, frame: model.predict(frame[features].astype("float64"))  # noqa: E731 (unclipped: additive)
    own_expectation, template_here = raw(own, rows), raw(template, rows)
    copies = [rows.assign(**{TEMPLATE.target: own_expectation})]  # where the plant stands: no effect to add
    for feature, (low, high) in variables.items():
        for value in np.linspace(low, high, TEMPLATE.distillation_points):
            moved = rows.assign(**{feature: value})
            copies.append(moved.assign(**{TEMPLATE.target: own_expectation + raw(template, moved) - template_here}))
    return pd.concat(copies, ignore_index=True)


def calibrate(template: lgb.Booster, plant_frame: pd.DataFrame, own: lgb.Booster | None = None) -> lgb.Booster:
    """The plant's instance (one booster): fit on the plant's own baseline (`own`, when the caller has it), plus the
    template's effect of every variable that baseline cannot show (`fleet_only_variables`), distilled by continued
    boosting on `_distillation_rows`."""
    features = template.feature_name()
    own = own if own is not None else fit(plant_frame, features)
    variables = fleet_only_variables(template, plant_frame)
    if not variables:
        return own
    return fit(_distillation_rows(template, own, plant_frame, variables), features, TEMPLATE.calibration_rounds,
               init_model=own)


def model_features(model: lgb.Booster) -> list[str]:
    return list(model.feature_name())


def predict(model: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    features = model_features(model)
    return np.clip(model.predict(with_columns(frame, features)[features].astype("float64")), 0.0, None)


def rows_for(model: lgb.Booster, plant_hours: pd.DataFrame) -> pd.DataFrame:
    """A plant's hourly rows at the grain of its model, with every column the model reads."""
    return with_columns(at_grain(plant_hours, grain_of_features(model_features(model))), model_features(model))


def _selection_fit_predict(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> np.ndarray:
    model = fit(train, features, TEMPLATE.selection_rounds)
    return predict(model, test)


def evaluate(model: lgb.Booster, frame: pd.DataFrame, factor: float = 1.0) -> dict[str, float]:
    """CV(RMSE) and NMBE at the model's grain (metric names end in the grain), and the G14 verdict."""
    grain = GRAINS[grain_of_features(model_features(model))]
    return scores(frame[TEMPLATE.target].to_numpy(float), predict(model, frame) * factor, len(model_features(model)), grain)


def scores(actual, predicted, n_params: int, grain) -> dict[str, float]:
    cv, bias = cv_rmse(actual, predicted, n_params), nmbe(actual, predicted, n_params)
    return {
        f"cv_rmse_{grain.name}": cv, f"nmbe_{grain.name}": bias, f"abs_nmbe_{grain.name}": abs(bias),
        "meets_ashrae_g14": float(cv <= grain.cv_rmse_max and abs(bias) <= grain.abs_nmbe_max),
    }


def thresholds(grain_name: str):
    """Governance: the grain's acceptance limits, and no worse than the champion by more than 2 CV points."""
    grain = GRAINS[grain_name]
    return [
        governance.Threshold(f"cv_rmse_{grain.name}", grain.cv_rmse_max, greater_is_better=False, champion_tolerance=0.02),
        governance.Threshold(f"abs_nmbe_{grain.name}", grain.abs_nmbe_max, greater_is_better=False),
    ]


@dataclass
class Design:
    """What one plant's baseline is made of, decided from its data (the model card reports all of it)."""

    grain: str
    grain_why: str
    features: list[str]
    evidence: dict[str, Evidence]
    unavailable: dict[str, str]
    plant_rows: pd.DataFrame
    fleet_rows: pd.DataFrame
    selection_cv: float


def period_column(grain: str) -> str:
    return GRAINS[grain].calendar[0]


def design(plant, pooled: pd.DataFrame) -> Design:
    """Grain, candidates and the kept variables of `plant`, and the rows (its own and the fleet's) at that grain."""
    hourly = pooled[pooled["plant_id"] == plant.plant_id]
    grain_name, why = choose_grain(hourly)
    grain = GRAINS[grain_name]
    plant_rows = at_grain(hourly, grain_name).reset_index(drop=True)
    fleet_rows = at_grain(pooled[pooled["plant_id"] != plant.plant_id], grain_name).reset_index(drop=True)
    groups, unavailable = candidate_groups(plant, plant_rows, grain)
    kept, evidence, selection_cv = forward_select(plant_rows, groups, grain.exposure, TEMPLATE.target, _selection_fit_predict)
    # A family the plant's baseline never made (constant) cannot show its effect there; where other plants make
    # it, the template carries their evidence, which calibration keeps (module docstring).
    for column in groups.get("product_mix", []):
        if column not in kept and is_constant(plant_rows, [column]) and column in fleet_rows.columns \
                and not is_constant(fleet_rows, [column]):
            group = "family:" + column[len("units_"):]
            evidence[group] = Evidence(group, [column], True, None,
                                       "constant in the plant's baseline, varies at the other plants: kept on the fleet's evidence")
            kept = kept + [column]
    return Design(grain_name, why, kept, evidence, unavailable, plant_rows, fleet_rows, selection_cv)


def naive_prediction(train: pd.DataFrame, test: pd.DataFrame, grain: str) -> np.ndarray:
    """The yardstick a model must beat: the baseline's mean energy for the same hour of week (day of week)."""
    period = period_column(grain)
    means = train.groupby(period)[TEMPLATE.target].mean()
    return test[period].map(means).fillna(train[TEMPLATE.target].mean()).to_numpy(float)


def fleet_template(d: Design) -> lgb.Booster | None:
    """The template as it stood before the plant joined: fit on the other plants' rows (None for a fleet's first plant)."""
    return fit(d.fleet_rows, d.features) if len(d.fleet_rows) else None


def _variants(d: Design, train: pd.DataFrame, holdout: pd.DataFrame, template_model) -> tuple[dict, dict]:
    grain = GRAINS[d.grain]
    local_model = fit(train, d.features)
    if template_model is None:  # a fleet's first plant: the template is its own training days (the same fit)
        template_model = local_model
    calibrated_model = calibrate(template_model, train, own=local_model)
    actual = holdout[TEMPLATE.target].to_numpy(float)
    predictions = {
        "template": predict(template_model, holdout), "calibrated": predict(calibrated_model, holdout),
        "local": predict(local_model, holdout), "naive": naive_prediction(train, holdout, d.grain),
    }
    n = len(d.features)
    return {variant: scores(actual, pred, n, grain) for variant, pred in predictions.items()}, predictions


def evaluate_candidates(d: Design, template_model=None) -> tuple[dict, pd.DataFrame, dict]:
    """Template-only vs calibrated vs from scratch (and the naive hour-of-week mean) on the plant's time-based
    holdout, with the whole training part and with only its first LITTLE_DATA_DAYS days (a plant just onboarded).
    Template only = fit on the other plants' baseline periods (as it stood before this plant joined;
    `template_model`, fleet_template(d), when the caller has it already)."""
    if template_model is None:
        template_model = fleet_template(d)
    train, holdout = time_split(d.plant_rows)
    results, predictions = _variants(d, train, holdout, template_model)
    metrics = {f"{variant}_{k}": v for variant, values in results.items() for k, v in values.items()}
    train_days = sorted(train["production_date"].unique())
    if len(train_days) > LITTLE_DATA_DAYS:
        few = train[train["production_date"] <= train_days[LITTLE_DATA_DAYS - 1]]
        little, _ = _variants(d, few, holdout, template_model)
        metrics |= {f"{variant}_{LITTLE_DATA_DAYS}d_{k}": v for variant, values in little.items() for k, v in values.items()}
    cv = f"cv_rmse_{d.grain}"
    metrics["adjustment_cv_rmse_points"] = 100 * (results["template"][cv] - results["calibrated"][cv])
    metrics["calibrated_gain_over_naive_points"] = 100 * (results["naive"][cv] - results["calibrated"][cv])
    metrics["variables_kept"] = float(len(d.features) - 1)
    residuals = holdout[TEMPLATE.target].to_numpy(float) - predictions["calibrated"]
    metrics[f"calibrated_residual_rho1_{d.grain}"] = lag1_autocorrelation(residuals)
    metrics["baseline_days"] = float(d.plant_rows["production_date"].nunique())
    if d.grain == "hourly":
        metrics["baseline_hours"] = float(len(d.plant_rows))
    predictions["actual"] = holdout[TEMPLATE.target].to_numpy(float)
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


class EnergyDrift(DriftMonitor):
    """Nightly drift check of a plant's champion: PSI of its kept variables against its training window and
    performance decay on the most recent days, against the template's retraining rules."""

    asset = AssetFacts(
        name="energy_model_drift",
        kinds=("python", "duckdb", "mlflow"),
        description="Nightly drift check of the plant's champion energy baseline: feature drift (PSI of the last "
        "days against the training window, for the variables the champion kept) and performance decay (CV(RMSE) / "
        "NMBE of the champion on the last days, at its grain). A crossed retraining rule opens an incident in "
        "actions.model_incidents and, when the plant's models.retrain_on_drift allows it, trains a new challenger on "
        "the recent window.",
    )

    def read(self, con, plants: dict) -> pd.DataFrame:
        return read_plant_hours(con, plants)

    def report(self, client, plant, plant_rows: pd.DataFrame) -> dict:
        """ml.drift.champion_drift of the champion on the plant's rows at its grain; `crossed` lists the rules hit."""
        name = model_registry.registered_model_name(TEMPLATE.name, plant.plant_id)
        champion = lightgbm_champion(client, name)
        grain = GRAINS[grain_of_features(model_features(champion))] if champion is not None else GRAINS["hourly"]
        rows = rows_for(champion, plant_rows) if champion is not None else plant_rows
        variables = [f for f in (model_features(champion) if champion is not None else []) if f != grain.exposure]
        return drift.champion_drift(
            client, name, rows, plant.models.drift_window_days, features=variables,
            limits={f"cv_rmse_{grain.name}": grain.cv_rmse_max, f"abs_nmbe_{grain.name}": grain.abs_nmbe_max},
            load_model=(lambda uri: champion) if champion is not None else load_lightgbm, evaluate=evaluate,
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
        reads=SOURCES,
        description="The energy baseline template (ml/templates/energy_baseline.py) at the grain the plant's metering "
        "supports (hourly or daily), on the relevant variables its baseline shows to matter (ISO 50006: output, product "
        "mix, running time, calendar, weather, other drivers), fit on the other plants' baseline periods (the template as "
        "it stood before this plant joined), calibrated on this plant's baseline period (its own data decides the effects it shows, the template those it "
        "cannot: a product family not yet made), evaluated "
        "on a time-based holdout against ASHRAE Guideline 14 (template only vs calibrated vs from scratch vs the naive "
        "hour-of-week mean, with 14 days and the whole baseline), and registered in MLflow as `energy_baseline.<plant>` "
        "with a model card that leads with the decision and the evidence.",
    )

    def read(self, con, plants: dict) -> pd.DataFrame:
        return baseline_period_rows(read_plant_hours(con, plants), plants)

    def missing_data(self, data: pd.DataFrame, plant) -> str | None:
        if data[data["plant_id"] == plant.plant_id].empty:
            return f"{plant.plant_id}: no standardized data in its baseline period {plant.energy_baseline}"
        return None

    def candidate(self, client, name: str, plant, pooled: pd.DataFrame) -> Candidate:
        from ml.plots import feature_importance_plot, markdown_image, residual_plot, residuals_by_period

        d = design(plant, pooled)
        fleet = fleet_template(d)
        metrics, holdout, predictions = evaluate_candidates(d, fleet)
        champion = lightgbm_champion(client, name)  # evaluated on the candidate's holdout: a fair comparison
        champion_metrics = None
        if champion is not None and grain_of_features(model_features(champion)) == d.grain:
            champion_metrics = evaluate(champion, holdout)
        # The registered instance uses every baseline day: template on the other plants, calibration on this one.
        own = fit(d.plant_rows, d.features)
        template_model = fleet if fleet is not None else own
        final_model = calibrate(template_model, d.plant_rows, own=own)
        metrics["calibrated_daily_rmse_kwh_oos"] = daily_out_of_sample_rmse(template_model, d.plant_rows)
        window = (str(plant.energy_baseline.start), str(plant.energy_baseline.end))
        period = period_column(d.grain)
        plots = {
            "actual_vs_predicted.png": residual_plot(predictions["actual"], predictions["template"], predictions["calibrated"],
                                                     f"{name}: holdout, template only vs calibrated ({d.grain})"),
            f"residuals_by_{period}.png": residuals_by_period(holdout[period], predictions["actual"], predictions["calibrated"],
                                                              period.replace("_", " "), f"{name}: calibrated holdout residuals by {period.replace('_', ' ')}"),
            "feature_importance.png": feature_importance_plot(d.features, final_model.feature_importance("gain"),
                                                              f"{name}: what the calibrated model uses (gain)"),
        }
        card = model_card(plant.plant_id, TEMPLATE, d, metrics, window, GRAINS[d.grain], "{decision}")
        return Candidate(
            log_model=lightgbm_logger(final_model, with_columns(d.plant_rows, d.features)[d.features], predict(final_model, d.plant_rows)),
            dataset=d.plant_rows, target=TEMPLATE.target, metrics=metrics,
            candidate_metrics={k[len("calibrated_"):]: v for k, v in metrics.items() if k.startswith("calibrated_")},
            champion_metrics=champion_metrics, thresholds=thresholds(d.grain), window=window, card=card, plots=plots,
            tags={"grain": d.grain, "variables_kept": ",".join(f for f in d.features if f != GRAINS[d.grain].exposure) or "none"},
            outcome={"plot_markdown": markdown_image(plots["actual_vs_predicted.png"], "holdout: actual vs predicted"),
                     "grain": d.grain},
        )

    def report(self, outcome: dict, data: pd.DataFrame, plant_id: str, connect) -> dict:
        metrics = outcome["metrics"]
        grain = outcome.get("grain") or ("daily" if "calibrated_cv_rmse_daily" in metrics else "hourly")
        return {
            "registered_model": outcome["model_name"],
            "version": str(outcome["version"]),
            "alias": outcome["alias"] or "none",
            "decision": outcome["decision"],
            "grain": grain,
            "reused_existing_version": outcome["reused"],
            "metrics": Markdown(metrics_table(metrics)),
            f"cv_rmse_{grain}": float(metrics.get(f"calibrated_cv_rmse_{grain}", float("nan"))),
            "model_adjustment_cv_rmse_points": float(metrics.get("adjustment_cv_rmse_points", float("nan"))),
            "residuals": Markdown(outcome["plot_markdown"]) if outcome.get("plot_markdown") else "",
            "mlflow_run_id": outcome["run_id"],
        }


USE_CASE = EnergyBaseline()
