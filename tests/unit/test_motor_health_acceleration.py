"""Motor health template v1.1 (issue 20, item 5): vibration as acceleration has no ISO 20816 zone table, so it is
judged by its trend against the motor's own healthy baseline. Every expected number here is worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ml.templates import motor_health as motor

DAYS = pd.date_range("2026-09-07", periods=6)


def acceleration_motor(means: list[float], motor_id: str = "B1") -> pd.DataFrame:
    """An asset measured by acceleration only (m/s^2), each day's max 1.5x its mean, no velocity, no zone."""
    return pd.DataFrame({
        "plant_id": "rig", "motor_id": motor_id, "line_id": "RIG", "production_date": DAYS[: len(means)],
        "machine_class": "rig", "acceleration_mean_ms2": means, "acceleration_max_ms2": [1.5 * m for m in means],
        "zone": None,
    })


def test_acceleration_only_motor_is_standardized_against_its_own_first_days():
    std = motor.standardize(acceleration_motor([2.0, 2.2, 1.8, 2.0, 4.0, 4.4]))
    # reference: the first 3 days, median of 2.0, 2.2, 1.8 = 2.0 -> ratio = mean / 2.0
    assert std["acceleration_ratio"].tolist() == pytest.approx([1.0, 1.1, 0.9, 1.0, 2.0, 2.2])
    # max / 2.0 = 1.5, 1.65, 1.35, ... over its reference median 1.5 -> the same sequence
    assert std["acceleration_max_ratio"].tolist() == pytest.approx([1.0, 1.1, 0.9, 1.0, 2.0, 2.2])
    assert std["vibration_ratio"].isna().all() and std["temperature_delta_c"].isna().all()
    assert std["is_reference"].tolist() == [True, True, True, False, False, False]


def test_acceleration_spread_score_and_alert_by_hand():
    std = motor.standardize(acceleration_motor([2.0, 2.2, 1.8, 2.0, 4.0, 4.4]))
    model = motor.fit_local(std)
    # reference deviations from 1: 0, +0.1, -0.1 -> MAD 0.1 -> robust sigma 1.4826 x 0.1 = 0.14826
    # (above the population std 0.0816 and the acceleration floor 0.05)
    assert model["sigma"]["acceleration_ratio"] == pytest.approx(0.14826)
    # no velocity, no temperature on the reference days: their floors
    assert model["sigma"]["vibration_ratio"] == 0.03 and model["sigma"]["temperature_delta_c"] == 0.5
    alerted = motor.alerts(motor.score(model, std))
    # z = (ratio - 1) / 0.14826: day 5 (2.0) -> 6.745, day 6 (2.2) -> 8.094; alert_z 6 on 2 days in a row
    assert alerted["score"].tolist() == pytest.approx([0.0, 0.6745, 0.0, 0.0, 6.7449, 8.0939], abs=1e-4)
    assert alerted["alert"].tolist() == [False, False, False, False, False, True]
    assert alerted["driver"].iloc[-1] in ("acceleration_ratio", "acceleration_max_ratio")
    # no zone is ever made up for acceleration
    assert alerted["zone"].isna().all()
    row = alerted.iloc[-1].to_dict() | {"driver": "acceleration_ratio"}
    assert motor.explain(row) == ("B1: vibration acceleration 2.2x its normal level (4.40 m/s², judged against its own "
                                  "baseline: no ISO zone for acceleration)")


def test_a_sensor_added_later_gets_its_own_baseline():
    frame = acceleration_motor([math.nan, math.nan, 1.0, 1.2, 0.8, 2.0])
    frame["vibration_mean_mms"] = [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    frame["vibration_max_mms"] = 3.0
    std = motor.standardize(frame)
    # acceleration's reference: its own first 3 days (1.0, 1.2, 0.8 -> median 1.0), not the motor's first 3 days
    assert std["acceleration_ratio"].tolist()[2:] == pytest.approx([1.0, 1.2, 0.8, 2.0])
    assert std["vibration_ratio"].tolist() == pytest.approx([1.0] * 6)


def test_velocity_keeps_its_zone_and_a_class_without_table_is_judged_by_trend():
    with_zone = pd.DataFrame({
        "plant_id": "p", "motor_id": "M1", "line_id": "L1", "production_date": DAYS[:4], "machine_class": "c",
        "vibration_mean_mms": [2.0, 2.0, 2.0, 5.0], "vibration_max_mms": [2.0, 2.0, 2.0, 5.0], "zone": ["B", "B", "B", "D"],
    })
    no_table = with_zone.assign(motor_id="M2", zone=None)
    model = {"sigma": dict.fromkeys(motor.FEATURES, 0.1), "center": dict(motor.CENTER)}
    alerted = motor.alerts(motor.score(model, motor.standardize(pd.concat([with_zone, no_table]))))
    last = alerted.groupby("motor_id").tail(1).set_index("motor_id")
    # day 4: ratio 2.5 -> z 15 on one day only; M1 alerts at once by its ISO zone D, M2 has no zone: not yet
    assert last["score"].tolist() == pytest.approx([15.0, 15.0])
    assert last.loc["M1", "alert"] and not last.loc["M2", "alert"]
    assert last["zone"].tolist()[1] is None


def test_the_spec_names_the_rule_per_measurement_kind_and_the_card_shows_it():
    spec = motor.TEMPLATE.as_dict()
    assert spec["version"] == "1.1.0"
    assert {"velocity", "velocity without a zone table", "acceleration", "trend rule"} <= set(spec["rule_per_measurement"])
    assert "zone NULL" in spec["rule_per_measurement"]["acceleration"]
    card = motor.model_card("rig", spec, {"alert_days": 1.0}, ("2026-09-07", "2026-09-12"))
    assert "*acceleration*: the trend rule only" in card and "{decision}" in card
