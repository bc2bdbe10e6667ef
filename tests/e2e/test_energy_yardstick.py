"""Alerts and savings that a constant cannot fake (issue 20, item 4). On the demo run, the champion's energy
deviation (actions.energy_performance), its alerts (actions.alerts) and its IPMVP savings (actions.energy_savings)
against two forecasts that know only the calendar, computed here from the same hourly data
(marts.fct_line_energy_hourly): the naive baseline (`operations.naive_baseline`, the baseline period's mean at
the same plant-local hour of week) and a constant (the mean daily energy of the baseline days).

plant_a's low-output waste day (`low_output_waste`: starved lines make 70 % of their units while the idle load
is 2 x; e2e day 8, 2026-09-15) uses less energy than a normal day: both calendar forecasts see a saving, the
champion, which expects energy from its plant's relevant variables, sees the waste. A constant or naive
predictor in place of the champion fails `row["deviation"] > tolerance` here (and the last assertion of the first
test shows that an alert set driven by either misses the day).

What it takes (issue 20): a baseline where output and running time move apart (plant_a's orders run between 60 %
and 97 % of the ideal rate, as on a real line), and a calibration in which the plant's own baseline decides the
effects it shows (energy template v3.1). With v3.0 (the template boosted further on the plant's data) the
fleet's split of energy between units and running time won: the day was expected at 20.3 MWh, deviation -9.8 %
against a true +14.2 %, and this test was a strict xfail.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

WASTE_TYPES = ("energy_waste", "low_output_waste")
MODEL_ACCURACY = 0.02  # daily accuracy of the energy template on days outside its baseline (test_savings_against_truth)


@pytest.fixture(scope="module")
def scored(e2e_run):
    """Per plant-day: the champion's and the two calendar forecasts' expected kWh, deviation and savings, and the
    truth's waste and savings."""
    from mlflow import MlflowClient

    from plant_assets.operations.naive_baseline import naive_performance
    from plant_assets.operations.rollout_scorecard import build_savings

    settings, plants = e2e_run["settings"], e2e_run["plants"]
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        champion = con.execute("select plant_id, production_date, actual_kwh, expected_kwh, deviation, tolerance "
                               "from actions.energy_performance").df()
        hourly = con.execute("select plant_id, line_id, hour_utc, production_date, energy_kwh "
                             "from marts.fct_line_energy_hourly").df()
        alerts = con.execute("select plant_id, production_date from actions.alerts where kind = 'energy_intensity'").df()
        savings = build_savings(con, plants, client)
    naive = naive_performance(hourly, plants)
    for frame in (champion, naive):
        frame["production_date"] = pd.to_datetime(frame["production_date"])
    days = champion.merge(naive, on=["plant_id", "production_date"], suffixes=("", "_naive"))
    # the constant: each plant's mean daily energy over its baseline days
    in_baseline = [plants[p].energy_baseline.start <= d.date() <= plants[p].energy_baseline.end
                   for p, d in zip(days["plant_id"], days["production_date"])]
    constant = days[in_baseline].groupby("plant_id")["actual_kwh"].mean()
    days["expected_kwh_constant"] = days["plant_id"].map(constant)
    days["deviation_constant"] = days["actual_kwh"] / days["expected_kwh_constant"] - 1
    truth = e2e_run["truth_daily"][["plant_id", "production_date", "injected_waste_kwh", "injected_savings_kwh"]]
    days = days.merge(truth, on=["plant_id", "production_date"])
    days["true_deviation"] = days["injected_waste_kwh"] / (days["actual_kwh"] - days["injected_waste_kwh"])
    savings = savings.assign(production_date=pd.to_datetime(savings["production_date"]))
    days = days.merge(savings[["plant_id", "production_date", "savings_kwh"]].rename(
        columns={"savings_kwh": "savings_kwh_champion"}), on=["plant_id", "production_date"], how="left")
    alerted = {(r.plant_id, pd.Timestamp(r.production_date)) for r in alerts.itertuples()}
    days["alerted"] = [(p, d) in alerted for p, d in zip(days["plant_id"], days["production_date"])]
    return days.set_index(["plant_id", "production_date"]).sort_index()


def _fault_days(e2e_run, types: tuple[str, ...]) -> list[tuple[dict, list[tuple[str, pd.Timestamp]]]]:
    faults = [f for f in e2e_run["faults"] if f["type"] in types]
    return [(f, [(f["plant_id"], d) for d in pd.date_range(f["start_date"], f["simulated_end_date"])]) for f in faults]


def _print(label: str, row) -> None:
    print(f"{label}: champion {row['deviation']:+.1%}, naive {row['deviation_naive']:+.1%}, "
          f"constant {row['deviation_constant']:+.1%}, truth {row['true_deviation']:+.1%} "
          f"(actual {row['actual_kwh']:.0f} kWh; expected champion {row['expected_kwh']:.0f}, "
          f"naive {row['expected_kwh_naive']:.0f}, constant {row['expected_kwh_constant']:.0f})")


def test_the_champion_flags_low_output_waste_that_the_calendar_forecasts_cannot(e2e_run, scored):
    (fault, days), = _fault_days(e2e_run, ("low_output_waste",))
    assert fault["plant_id"] == "plant_a" and days
    for key in days:
        row = scored.loc[key]
        _print(f"low-output waste {key[0]} {key[1].date()}", row)
        tolerance = row["tolerance"]
        # the fault's premise: the day's raw energy is below the baseline's mean at the same hours of week
        assert row["actual_kwh"] < row["expected_kwh_naive"] and row["actual_kwh"] < row["expected_kwh_constant"]
        assert row["deviation_naive"] <= tolerance and row["deviation_constant"] <= tolerance
        # the champion sees the waste, raises the alert, and its deviation is near the true one
        assert row["deviation"] > tolerance and row["alerted"]
        assert abs(row["deviation"] - row["true_deviation"]) < 0.5 * row["true_deviation"]
    # the pipeline test's check (every waste day alerted) fails for an alert driven by either calendar forecast
    waste = {key for _, keys in _fault_days(e2e_run, WASTE_TYPES) for key in keys}
    for column in ("deviation_naive", "deviation_constant"):
        flagged = set(scored.index[scored[column] > scored["tolerance"]])
        assert not waste <= flagged, column


def test_energy_waste_days_are_flagged_by_the_champion(e2e_run, scored):
    """plant_b's plain waste days (base load x 2.5 on a normal production day): a calendar forecast flags them too
    (the figures are printed for the report); the champion flags them and stays near the true deviation."""
    for _, days in _fault_days(e2e_run, ("energy_waste",)):
        for key in days:
            row = scored.loc[key]
            _print(f"energy waste {key[0]} {key[1].date()}", row)
            assert row["deviation"] > row["tolerance"] and row["alerted"]
            assert abs(row["deviation"] - row["true_deviation"]) < 0.5 * row["true_deviation"]


def test_savings_are_closer_to_the_truth_with_the_champion_than_with_the_naive_baseline(e2e_run, scored):
    """Where the truth knows the energy avoided (efficiency improvement: injected_savings_kwh) or added (waste:
    -injected_waste_kwh), the champion's IPMVP savings over the fault's days are nearer to it than the naive
    baseline's (expected - actual with its expectation), or within the 2 % of the days' expected energy that the
    template is accountable for (test_savings_against_truth.MODEL_ACCURACY): on plain waste days of normal
    production the calendar is a fair forecast too, and which of two good estimates lands nearer is chance
    (measured: plant_b's waste, champion +883 kWh of 57 MWh, naive -57 kWh). Over all faults, the champion's error
    is below a quarter of the naive baseline's."""
    checked, errors = 0, {"champion": 0.0, "naive": 0.0}
    for fault, days in _fault_days(e2e_run, ("efficiency_improvement", *WASTE_TYPES)):
        rows = scored.loc[days]
        truth = float((rows["injected_savings_kwh"] - rows["injected_waste_kwh"]).sum())
        champion = float(rows["savings_kwh_champion"].sum())
        naive = float((rows["expected_kwh_naive"] - rows["actual_kwh"]).sum())
        print(f"{fault['type']} {fault['plant_id']} {fault['start_date']}..{fault['simulated_end_date']}: truth "
              f"{truth:+.0f} kWh, champion {champion:+.0f} ({champion - truth:+.0f}), naive {naive:+.0f} "
              f"({naive - truth:+.0f})")
        assert rows["savings_kwh_champion"].notna().all(), "the champion passed validation: savings are counted"
        expected = float(rows["expected_kwh"].sum())
        assert abs(champion - truth) < max(abs(naive - truth), MODEL_ACCURACY * expected), (champion, truth, expected)
        errors["champion"] += abs(champion - truth)
        errors["naive"] += abs(naive - truth)
        checked += 1
    assert checked == 3, "plant_a's low-output waste and improvement, plant_b's waste"
    assert errors["champion"] < 0.25 * errors["naive"], errors
