"""Templates, drift and explanations on small synthetic data (no MLflow, no pipeline)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import drift
from ml.explain import contributions, daily_drivers
from ml.templates import energy_baseline as energy
from ml.templates import motor_health as motor
from ml.templates import quality
from tests.ml_fixtures import plant_hours


def test_psi_and_retraining_rules():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 2000)
    assert drift.psi(ref, rng.normal(0, 1, 2000)) < 0.05
    assert drift.psi(ref, rng.normal(1.5, 1, 2000)) > 0.2
    crossed = drift.check({"units_produced": 0.5, "running_minutes": 0.01}, {"cv_rmse_hourly": 0.4}, {"cv_rmse_hourly": 0.3})
    assert any("units_produced" in c for c in crossed) and any("performance decay" in c for c in crossed)
    assert not any("running_minutes" in c for c in crossed)


def test_energy_calibration_meets_g14_and_beats_template_on_an_unseen_plant():
    other = pd.concat([plant_hours("plant_x", seed=1), plant_hours("plant_y", seed=2, base_kw=90, run_kw=200)])
    mine = plant_hours("plant_z", days=14, seed=3, base_kw=40, run_kw=110, kwh_per_unit=0.12)
    train, test = energy.time_split(mine)
    template = energy.fit_template(other)
    calibrated = energy.calibrate(template, train)
    t, c = energy.evaluate(template, test), energy.evaluate(calibrated, test)
    assert c["meets_ashrae_g14"] == 1.0
    assert c["cv_rmse_hourly"] < t["cv_rmse_hourly"]


def test_calibration_keeps_the_fleet_effect_of_a_feature_the_plant_never_moved():
    """A plant that made no heavy product in its baseline (heavy_units constant 0) launches one: calibration keeps
    the template's heavy-unit effect learned at the other plants; a model from scratch prices heavy units as light."""
    other = pd.concat([plant_hours("plant_x", days=14, seed=1), plant_hours("plant_y", days=14, seed=2, base_kw=90, run_kw=200)])
    before = plant_hours("plant_z", days=14, seed=3, base_kw=40, run_kw=110, kwh_per_unit=0.12, heavy_share=(0.0, 0.0))
    after = plant_hours("plant_z", days=7, start="2026-09-21", seed=4, base_kw=40, run_kw=110, kwh_per_unit=0.12)
    assert before["heavy_units"].nunique() == 1 and after["heavy_units"].gt(0).all()
    template = energy.fit_template(other)
    calibrated = energy.evaluate(energy.calibrate(template, before), after)
    local = energy.evaluate(energy.fit_local(before), after)
    assert calibrated["cv_rmse_hourly"] < 0.06 and abs(calibrated["nmbe_hourly"]) < 0.02, calibrated
    assert local["nmbe_hourly"] > 0.06, local  # from scratch under-predicts every heavy hour
    assert calibrated["cv_rmse_hourly"] < 0.5 * local["cv_rmse_hourly"]


def test_fleet_rows_leave_the_plant_out():
    pooled = pd.concat([plant_hours("plant_x", days=2), plant_hours("plant_y", days=2, seed=1)])
    assert set(energy.fleet_rows(pooled, "plant_x")["plant_id"]) == {"plant_y"}
    alone = plant_hours("plant_x", days=2)
    assert len(energy.fleet_rows(alone, "plant_x")) == len(alone)  # the first plant of a fleet: its own rows


def test_top_drivers_in_words():
    frame = plant_hours("plant_x", days=3, seed=4)
    model = energy.fit_template(frame)
    features = list(energy.TEMPLATE.features)
    contrib = contributions(model, frame, features)
    # contributions (of the surrogate, for linear trees) add up to about the prediction
    assert np.corrcoef(contrib.sum(axis=1), model.predict(frame[features]))[0, 1] > 0.95
    drivers = daily_drivers(model, frame, features)
    assert len(drivers) == 3
    first = next(iter(drivers.values()))
    assert len(first) == 3 and "expected energy" in first[0]["text"]


def _motor_days(degrade_from: int | None, motor_id: str, days: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        factor = 1.0 if degrade_from is None or d < degrade_from else 1.0 + 0.12 * (d - degrade_from + 1) ** 1.5
        vib = 1.5 * factor * rng.normal(1, 0.01)
        rows.append({"plant_id": "p", "motor_id": motor_id, "line_id": "L1", "production_date": pd.Timestamp("2026-09-07") + pd.Timedelta(days=d),
                     "machine_class": "iso20816_group2_rigid", "vibration_mean_mms": vib, "vibration_max_mms": vib * 1.3,
                     "bearing_temp_mean_c": 55 + 3 * (factor - 1) + rng.normal(0, 0.3), "zone": "B", "health": "green"})
    return pd.DataFrame(rows)


def test_motor_health_flags_degradation_before_failure_only():
    daily = pd.concat([_motor_days(4, "M-bad"), _motor_days(None, "M-ok1", seed=1), _motor_days(None, "M-ok2", seed=2)])
    std = motor.standardize(daily)
    model = motor.calibrate(motor.fit_template(std), std)
    alerted = motor.alerts(motor.score(model, std))
    flagged = alerted[alerted["alert"]]
    assert set(flagged["motor_id"]) == {"M-bad"}
    faults = [{"type": "motor_degradation", "plant_id": "p", "motor_id": "M-bad", "onset_date": "2026-09-11", "failure_date": "2026-09-19"}]
    result = motor.evaluate(alerted, motor.label_days(alerted, faults), faults)
    assert result["lead_time_days"] >= 3 and result["false_alert_motors"] == 0 and result["pr_auc"] > 0.8


def test_quality_features_and_fit():
    rng = np.random.default_rng(0)
    n = 200
    start = pd.Timestamp("2026-09-07") + pd.to_timedelta(np.arange(n) * 3, unit="h")
    heavy = rng.random(n) < 0.4
    total = rng.integers(5000, 20000, n)
    scrap = (total * np.where(heavy, 0.045, 0.025) * rng.normal(1, 0.1, n)).astype(int)
    runs = pd.DataFrame({"plant_id": "p", "order_id": np.arange(n).astype(str), "start_utc": start, "end_utc": start + pd.Timedelta(hours=2),
                         "good_qty": total - scrap, "scrap_qty": scrap, "kwh_per_unit": 0.08, "production_date": start.normalize(),
                         "family": np.where(heavy, "heavy", "standard")})
    frame = quality.features(runs)
    train, test = quality.time_split(frame)
    metrics = quality.evaluate(quality.fit_template(train), test)
    assert metrics["mae_scrap_share"] < 0.01
