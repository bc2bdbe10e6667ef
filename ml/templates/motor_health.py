"""Motor health / anomaly template: flags a motor's degradation before it fails.

Grain: motor x plant-local production day, from `marts.fct_motor_health_daily` (canonical signals
motor_vibration_velocity, motor_vibration_acceleration and motor_bearing_temperature, ISO 20816-3 zone for
velocity). Every motor is compared with its own normal level (the median of its first `reference_days` days
with that measurement), so one template serves motors of any size and sensors of either kind:
- vibration_ratio / vibration_max_ratio          daily mean / max RMS velocity over the reference median
- acceleration_ratio / acceleration_max_ratio    the same for RMS acceleration (no ISO zone table exists)
- temperature_delta_c                            daily mean bearing temperature - the reference median

Template: the day-to-day spread (robust sigma) of these standardized features, fit on the pooled
reference days of every plant's motors. Plant calibration: the spread re-estimated on the plant's own
reference days, shrunk towards the pooled spread (few days per plant). Score = the largest upward
deviation in sigmas; an alert needs `consecutive_days` days above `alert_z`, or ISO 20816 zone D (velocity
with a zone table only). The rule per measurement kind is `MotorHealthSpec.rule_per_measurement`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ml import governance
from ml.training import pinned_requirements
from ml.use_case import AssetFacts, Candidate, Markdown, UseCase

SOURCE = "marts.fct_motor_health_daily"
# Per vibration kind: (daily mean column, daily max column, mean ratio feature, max ratio feature).
VIBRATION = {
    "velocity": ("vibration_mean_mms", "vibration_max_mms", "vibration_ratio", "vibration_max_ratio"),
    "acceleration": ("acceleration_mean_ms2", "acceleration_max_ms2", "acceleration_ratio", "acceleration_max_ratio"),
}
FEATURES = ("vibration_ratio", "vibration_max_ratio", "acceleration_ratio", "acceleration_max_ratio", "temperature_delta_c")
# A healthy motor's feature value: ratios to its own level are 1, the temperature difference is 0.
CENTER = {"vibration_ratio": 1.0, "vibration_max_ratio": 1.0, "acceleration_ratio": 1.0,
          "acceleration_max_ratio": 1.0, "temperature_delta_c": 0.0}
# Columns a daily frame may lack (a mart built before acceleration, a benchmark with one kind only).
OPTIONAL_COLUMNS = ("vibration_mean_mms", "vibration_max_mms", "acceleration_mean_ms2", "acceleration_max_ms2",
                    "bearing_temp_mean_c", "zone")


@dataclass(frozen=True)
class MotorHealthSpec:
    name: str = "motor_health"
    version: str = "1.1.0"
    grain: str = "motor x plant-local production day"
    inputs: tuple[str, ...] = ("motor_vibration_velocity (daily mean, max)", "motor_vibration_acceleration (daily mean, max)",
                               "motor_bearing_temperature (daily mean)", "ISO 20816-3 zone (velocity only)")
    features: tuple[str, ...] = FEATURES
    target: str = "degrading (the motor fails within its degradation period)"
    model_family: str = "robust z-score anomaly detector on per-motor standardized features"
    params: dict = field(default_factory=lambda: {
        "reference_days": 3, "alert_z": 6.0, "consecutive_days": 2, "shrinkage_days": 12,
        # floors of the spread: broadband acceleration varies more from day to day than velocity (high-frequency
        # content moves with load and lubrication), so its floor is wider; set before any real-data benchmark
        "min_sigma": {"vibration_ratio": 0.03, "vibration_max_ratio": 0.03, "acceleration_ratio": 0.05,
                      "acceleration_max_ratio": 0.05, "temperature_delta_c": 0.5},
    })
    rule_per_measurement: dict = field(default_factory=lambda: {
        "velocity": "ISO 20816-3 zone of the daily mean against the machine class's boundaries (zone D alerts at once) "
                    "and the trend rule below on vibration_ratio / vibration_max_ratio",
        "velocity without a zone table": "the trend rule only (the machine class has no boundaries: zone NULL, "
                                         "never a made-up zone)",
        "acceleration": "the trend rule only, on acceleration_ratio / acceleration_max_ratio (ISO 20816-3 tables "
                        "are for velocity: zone NULL)",
        "bearing temperature": "the trend rule on temperature_delta_c (degC above the reference median)",
        "trend rule": "feature = the day's value over the median of the motor's first reference_days days with that "
                      "measurement (its healthy baseline); z = (feature - 1) / sigma (robust spread of the pooled "
                      "reference days, calibrated per plant); alert when the largest z exceeds alert_z on "
                      "consecutive_days periods in a row",
    })
    validation: dict = field(default_factory=lambda: {
        "false_alert_motors_max": 0, "pr_auc_min": 0.5, "lead_time_days_min": 1,
    })
    assumptions: tuple[str, ...] = (
        "each motor's first reference days are healthy (commissioning or after maintenance)",
        "the daily mean vibration includes idle readings, so a day's running share moves it; the score uses ratios to the motor's own level",
        "acceleration is judged only against the motor's own baseline: its absolute level says nothing across machines",
        "motor current is not in marts.fct_motor_health_daily yet, so it is not an input",
    )
    retraining: tuple[str, ...] = (
        "after maintenance on a motor (its reference level changes)",
        "feature drift: PSI > 0.2 of healthy motors' standardized features",
        "a false alert confirmed by maintenance",
    )

    def as_dict(self) -> dict:
        return asdict(self)


TEMPLATE = MotorHealthSpec()


def read_daily(con) -> pd.DataFrame:
    return con.execute(
        f"""select plant_id, motor_id, line_id, production_date, machine_class, vibration_mean_mms,
                  vibration_max_mms, acceleration_mean_ms2, acceleration_max_ms2, bearing_temp_mean_c, zone, health
           from {SOURCE} order by plant_id, motor_id, production_date"""
    ).df()


def standardize(daily: pd.DataFrame, reference_days: int | None = None) -> pd.DataFrame:
    """Per motor: features relative to the motor's own first `reference_days` days (its normal level); a motor
    measured by velocity, by acceleration or both. `production_date` may be any period start (a day, an hour)."""
    reference_days = reference_days or TEMPLATE.params["reference_days"]
    frame = daily.copy()
    for column in OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = np.nan if column != "zone" else None
    frame = frame[frame["vibration_mean_mms"].notna() | frame["acceleration_mean_ms2"].notna()].copy()
    frame["production_date"] = pd.to_datetime(frame["production_date"])
    frame = frame.sort_values(["plant_id", "motor_id", "production_date"])
    keys = ["plant_id", "motor_id"]
    frame["day_index"] = frame.groupby(keys).cumcount()
    frame["is_reference"] = frame["day_index"] < reference_days
    motor_key = frame.set_index(keys).index
    for kind, (mean, peak, ratio, peak_ratio) in VIBRATION.items():
        # the baseline of a kind is its own first days: a sensor added later gets its own reference
        has = frame[mean].notna()
        first = frame[has].groupby(keys).cumcount() < reference_days
        ref_rows = frame[has][first]
        level = ref_rows.groupby(keys)[mean].median()
        level = level[level > 0]  # a zero reference level gives no ratio (a dead sensor is not a baseline)
        reference = motor_key.map(level).to_numpy(float)
        frame[ratio] = frame[mean] / reference
        frame[peak_ratio] = frame[peak] / reference
        peak_level = (ref_rows[peak] / ref_rows.set_index(keys).index.map(level).to_numpy(float)).groupby(
            [ref_rows["plant_id"], ref_rows["motor_id"]]).median()
        frame[peak_ratio] = frame[peak_ratio] / motor_key.map(peak_level).to_numpy(float)
    ref_temp = frame[frame["is_reference"]].groupby(keys)["bearing_temp_mean_c"].median()
    frame["temperature_delta_c"] = frame["bearing_temp_mean_c"] - motor_key.map(ref_temp).to_numpy(float)
    return frame.reset_index(drop=True)


def _robust_sigma(values: pd.Series, floor: float) -> float:
    values = values.dropna().to_numpy(float)
    if len(values) < 2:
        return floor
    centered = values - np.median(values)
    return max(float(1.4826 * np.median(np.abs(centered))), float(np.std(centered)), floor)


def fit_template(pooled: pd.DataFrame) -> dict:
    """Pooled spread of each standardized feature over every plant's healthy reference days."""
    ref = pooled[pooled["is_reference"]]
    floors = TEMPLATE.params["min_sigma"]
    return {"sigma": {f: _robust_sigma(ref[f] - CENTER[f], floors[f]) for f in FEATURES},
            "center": dict(CENTER), "n_reference": int(len(ref))}


def calibrate(template: dict, plant_frame: pd.DataFrame) -> dict:
    """The plant's spread from its own reference days, shrunk towards the template by the number of days."""
    ref = plant_frame[plant_frame["is_reference"]]
    n = len(ref)
    weight = n / (n + TEMPLATE.params["shrinkage_days"])
    floors = TEMPLATE.params["min_sigma"]
    sigma = {
        f: float(np.sqrt(weight * _robust_sigma(ref[f] - template["center"][f], floors[f]) ** 2
                         + (1 - weight) * template["sigma"][f] ** 2))
        for f in FEATURES
    }
    return {"sigma": sigma, "center": dict(template["center"]), "n_reference": n, "plant_weight": weight}


def fit_local(plant_frame: pd.DataFrame) -> dict:
    """From scratch: the plant's own reference days only (no pooled prior)."""
    ref = plant_frame[plant_frame["is_reference"]]
    floors = TEMPLATE.params["min_sigma"]
    return {"sigma": {f: _robust_sigma(ref[f] - CENTER[f], floors[f]) for f in FEATURES}, "center": dict(CENTER),
            "n_reference": len(ref)}


def score(model: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """Per motor-day: z per feature (upward deviations only), the score (largest z) and its driver."""
    out = frame.copy()
    for f in FEATURES:
        out[f"z_{f}"] = (out[f] - model["center"][f]) / model["sigma"][f]
    zs = out[[f"z_{f}" for f in FEATURES]].fillna(0.0)
    out["score"] = zs.max(axis=1).clip(lower=0.0)
    out["driver"] = zs.idxmax(axis=1).str.removeprefix("z_")
    return out


def alerts(scored: pd.DataFrame, alert_z: float | None = None, consecutive_days: int | None = None) -> pd.DataFrame:
    """Alert days: the score above `alert_z` on `consecutive_days` days in a row, or ISO 20816 zone D."""
    alert_z = alert_z if alert_z is not None else TEMPLATE.params["alert_z"]
    consecutive_days = consecutive_days or TEMPLATE.params["consecutive_days"]
    out = scored.sort_values(["plant_id", "motor_id", "production_date"]).copy()
    above = (out["score"] > alert_z).astype(int)
    run = above.groupby([out["plant_id"], out["motor_id"], (above == 0).cumsum()]).cumsum()
    out["alert"] = (run >= consecutive_days) | (out["zone"] == "D")
    return out


def explain(row) -> str:
    """The alert in an operator's words."""
    driver = row["driver"]
    if driver == "temperature_delta_c":
        what = f"bearing temperature {row['temperature_delta_c']:+.1f} °C above its normal level"
    elif driver == "vibration_max_ratio":
        what = f"peak vibration {row['vibration_max_ratio']:.1f}x its normal level"
    elif driver == "acceleration_max_ratio":
        what = f"peak vibration acceleration {row['acceleration_max_ratio']:.1f}x its normal level"
    elif driver == "acceleration_ratio":
        what = (f"vibration acceleration {row['acceleration_ratio']:.1f}x its normal level "
                f"({row['acceleration_mean_ms2']:.2f} m/s², judged against its own baseline: no ISO zone for acceleration)")
    else:
        zone = f"ISO 20816 zone {row['zone']}" if isinstance(row["zone"], str) else "no ISO 20816 zone table for its class"
        what = f"vibration {row['vibration_ratio']:.1f}x its normal level ({row['vibration_mean_mms']:.1f} mm/s, {zone})"
    return f"{row['motor_id']}: {what}"


def label_days(frame: pd.DataFrame, faults: list[dict]) -> pd.Series:
    """Truth for evaluation: a motor-day is degrading between the fault's onset and its failure."""
    label = pd.Series(False, index=frame.index)
    for fault in faults:
        if fault.get("type") != "motor_degradation":
            continue
        hit = (
            (frame["plant_id"] == fault["plant_id"]) & (frame["motor_id"] == fault["motor_id"])
            & (frame["production_date"] >= pd.Timestamp(fault["onset_date"]))
            & (frame["production_date"] < pd.Timestamp(fault["failure_date"]))
        )
        label |= hit
    return label


def evaluate(alerted: pd.DataFrame, labels: pd.Series, faults: list[dict]) -> dict:
    """PR-AUC of the daily score, precision / recall at the alert rule, lead time before each failure,
    and motors alerted that never degraded (false-alert motors)."""
    from sklearn.metrics import average_precision_score

    y = labels.reindex(alerted.index).fillna(False).to_numpy(bool)
    pred = alerted["alert"].to_numpy(bool)
    tp, fp, fn = int((y & pred).sum()), int((~y & pred).sum()), int((y & ~pred).sum())
    result = {
        "pr_auc": float(average_precision_score(y, alerted["score"])) if y.any() and (~y).any() else float("nan"),
        "precision_at_threshold": tp / (tp + fp) if tp + fp else float("nan"),
        "recall_at_threshold": tp / (tp + fn) if tp + fn else float("nan"),
    }
    degrading = {(f["plant_id"], f["motor_id"]) for f in faults if f.get("type") == "motor_degradation"}
    alerted_motors = {tuple(k) for k in alerted.loc[alerted["alert"], ["plant_id", "motor_id"]].drop_duplicates().to_numpy()}
    result["false_alert_motors"] = float(len(alerted_motors - degrading))
    leads = []
    for fault in faults:
        if fault.get("type") != "motor_degradation":
            continue
        rows = alerted[(alerted["plant_id"] == fault["plant_id"]) & (alerted["motor_id"] == fault["motor_id"]) & alerted["alert"]]
        rows = rows[rows["production_date"] < pd.Timestamp(fault["failure_date"])]
        if len(rows):
            leads.append((pd.Timestamp(fault["failure_date"]) - rows["production_date"].min()).days)
    result["lead_time_days"] = float(min(leads)) if leads else float("nan")
    return result


def pyfunc_model(calibration: dict):
    """Wrap as mlflow.pyfunc.PythonModel (imported lazily: MLflow is heavy)."""
    import mlflow.pyfunc

    class _Model(mlflow.pyfunc.PythonModel):
        def __init__(self):
            self.calibration = calibration

        def predict(self, context, model_input, params=None):
            return score(self.calibration, model_input)[["score"]]

    return _Model()


def thresholds() -> list:
    # In production there are no failure labels: a plant instance must stay silent on its healthy
    # reference days (no alert on a healthy motor) and keep every motor scorable.
    return [
        governance.Threshold("reference_alert_days", 0.0, greater_is_better=False),
        governance.Threshold("motors_scored", 1.0, greater_is_better=True),
    ]


def candidates(standardized: pd.DataFrame, plant_id: str) -> dict[str, dict]:
    pooled_model = fit_template(standardized)
    plant = standardized[standardized["plant_id"] == plant_id]
    return {
        "template": pooled_model,
        "calibrated": calibrate(pooled_model, plant),
        "local": fit_local(plant),
    }


def plant_metrics(model: dict, plant_frame: pd.DataFrame) -> dict[str, float]:
    alerted = alerts(score(model, plant_frame))
    ref = alerted[alerted["is_reference"]]
    measured_by = {kind: alerted.loc[alerted[ratio].notna(), "motor_id"].nunique() for kind, (_, _, ratio, _) in VIBRATION.items()}
    return {
        "reference_alert_days": float(ref["alert"].sum()),
        "alert_days": float(alerted["alert"].sum()),
        "motors_alerted": float(alerted.loc[alerted["alert"], "motor_id"].nunique()),
        "motors_scored": float(alerted["motor_id"].nunique()),
        "motors_by_velocity": float(measured_by["velocity"]),
        "motors_by_acceleration": float(measured_by["acceleration"]),
        "reference_days": float(model.get("n_reference", 0)),
    } | {f"sigma_{k}": float(v) for k, v in model["sigma"].items()}


def model_card(plant_id: str, spec: dict, metrics: dict, window: tuple[str, str]) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()))
    rules = "\n".join(f"- *{kind}*: {rule}" for kind, rule in spec["rule_per_measurement"].items())
    return f"""# motor_health for {plant_id}

**Template** `{spec['name']}` v{spec['version']} ({spec['model_family']}); the spread of each standardized
feature is fit on every plant's healthy reference days and calibrated on {plant_id}'s own ({window[0]} to {window[1]}).

**Alert rule**: score > {spec['params']['alert_z']} sigmas on {spec['params']['consecutive_days']} consecutive days,
or ISO 20816-3 zone D. Features: {', '.join(spec['features'])}.

**Rule per measurement kind** (reference: each motor's first {spec['params']['reference_days']} days with the measurement):
{rules}

**Decision**: {{decision}}

| metric | value |
|---|---|
{rows}

Assumptions: {'; '.join(spec['assumptions'])}.
"""


def pyfunc_logger(calibration: dict, plant_rows: pd.DataFrame):
    """`Candidate.log_model`: the calibrated detector as an MLflow pyfunc scoring the standardized features."""
    inputs = plant_rows[list(FEATURES)].astype("float64")

    def log_model(registered_name: str):
        import mlflow.pyfunc
        from mlflow.models import infer_signature

        return mlflow.pyfunc.log_model(
            name="model", python_model=pyfunc_model(calibration),
            signature=infer_signature(inputs, score(calibration, plant_rows)[["score"]]),
            input_example=inputs.head(5), registered_model_name=registered_name,
            pip_requirements=pinned_requirements("pandas", "numpy"),
        )

    return log_model


class MotorHealth(UseCase):
    spec = TEMPLATE
    title = "Motor health / anomaly detector"
    asset = AssetFacts(
        name="motor_health_model",
        kinds=("python", "mlflow"),
        reads=(SOURCE,),
        description="The motor health template (ml/templates/motor_health.py): per-motor standardized vibration "
        "(velocity with ISO 20816-3 zones, acceleration by its trend against the motor's own baseline) and "
        "bearing temperature, spread fit on every plant's healthy reference days, calibrated on this plant, "
        "registered in MLflow as `motor_health.<plant>`.",
    )

    def read(self, con, plants: dict) -> pd.DataFrame:
        return standardize(read_daily(con))

    def missing_data(self, data: pd.DataFrame, plant) -> str | None:
        if data[data["plant_id"] == plant.plant_id].empty:
            return f"{plant.plant_id}: no motor vibration data yet"
        return None

    def candidate(self, client, name: str, plant, standardized: pd.DataFrame) -> Candidate:
        plant_id = plant.plant_id
        models = candidates(standardized, plant_id)
        plant_rows = standardized[standardized["plant_id"] == plant_id]
        metrics = {}
        for variant, model in models.items():
            metrics |= {f"{variant}_{k}": v for k, v in plant_metrics(model, plant_rows).items()}
        calibrated = models["calibrated"]
        window = (str(plant_rows["production_date"].min().date()), str(plant_rows["production_date"].max().date()))
        return Candidate(
            log_model=pyfunc_logger(calibrated, plant_rows),
            dataset=plant_rows[["plant_id", "motor_id", "production_date", *FEATURES, "zone"]], target=None,
            metrics=metrics, candidate_metrics=plant_metrics(calibrated, plant_rows),
            champion_metrics=None,  # no labels in production: nothing to compare the champion on
            thresholds=thresholds(), window=window, card=model_card(plant_id, TEMPLATE.as_dict(), metrics, window),
        )

    def report(self, outcome: dict, data: pd.DataFrame, plant_id: str, connect) -> dict:
        return super().report(outcome, data, plant_id, connect) | {
            "vibration_vs_iso20816_zones": Markdown(vibration_zones_markdown(data, plant_id, connect)),
        }


def vibration_zones_markdown(data: pd.DataFrame, plant_id: str, connect) -> str:
    """Markdown image: the plant's motors' daily vibration against their machine classes' zone boundaries."""
    from ml.plots import markdown_image, motor_vibration_zones

    with connect() as con:
        classes = con.execute(
            "select machine_class, ab_boundary_mms, bc_boundary_mms, cd_boundary_mms from staging.machine_classes"
        ).fetchall()
    mine = data[(data["plant_id"] == plant_id) & data["vibration_mean_mms"].notna()]
    png = motor_vibration_zones(mine, {c: (ab, bc, cd) for c, ab, bc, cd in classes},
                                f"{plant_id}: daily vibration vs ISO 20816-3 zones")
    return markdown_image(png, f"{plant_id} motor vibration against ISO 20816-3 zones")


USE_CASE = MotorHealth()
