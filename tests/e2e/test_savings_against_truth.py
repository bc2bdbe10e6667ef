"""IPMVP savings against the simulator's truth: the efficiency improvement injected at plant_a after its
baseline is measured within 10 % of the injected savings (same random draws, so the truth is exact), raises
no energy alert, and plants without an improvement show savings inside their uncertainty band."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from mlflow import MlflowClient

TOLERANCE = 0.10
# Daily accuracy of the energy template on days whose conditions its baseline did not cover.
MODEL_ACCURACY = 0.02


@pytest.fixture(scope="module")
def savings(e2e_run):
    from plant_assets.operations.rollout_scorecard import build_savings

    settings = e2e_run["settings"]
    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        daily = build_savings(con, e2e_run["plants"], client)
        alerts = con.execute("select plant_id, production_date from actions.alerts where kind = 'energy_intensity'").df()
    daily["production_date"] = pd.to_datetime(daily["production_date"])
    alerts["production_date"] = pd.to_datetime(alerts["production_date"])
    return {"daily": daily, "energy_alerts": alerts}


def _fault_days(fault: dict) -> pd.DatetimeIndex:
    return pd.date_range(fault["start_date"], fault["simulated_end_date"])


def test_computed_savings_match_the_injected_improvement(e2e_run, savings):
    improvement = next(f for f in e2e_run["faults"] if f["type"] == "efficiency_improvement")
    plant_id, days = improvement["plant_id"], _fault_days(improvement)
    truth = e2e_run["truth_daily"]
    injected_daily = truth[(truth["plant_id"] == plant_id) & truth["production_date"].isin(days)]
    injected = float(injected_daily["injected_savings_kwh"].sum())
    assert injected == pytest.approx(improvement["injected_savings_kwh"], abs=0.01)
    assert injected > 0.03 * float(injected_daily["energy_kwh"].sum()), "size the improvement to be measurable"
    daily = savings["daily"]
    measured = daily[(daily["plant_id"] == plant_id) & daily["production_date"].isin(days)]
    assert len(measured) == len(days), "the champion passed validation: savings are counted"
    computed = float(measured["savings_kwh"].sum())
    print(f"{plant_id} {days[0].date()}..{days[-1].date()}: computed {computed:.1f} kWh, injected {injected:.1f} kWh "
          f"({computed / injected - 1:+.1%})")
    assert abs(computed - injected) <= TOLERANCE * injected, (computed, injected)
    # Every day of the programme saves: measured savings are positive each day, and no day raises an energy alert.
    assert (measured["savings_kwh"] > 0).all()
    alerts = savings["energy_alerts"]
    assert alerts[(alerts["plant_id"] == plant_id) & alerts["production_date"].isin(days)].empty


def test_plants_without_an_improvement_claim_none(e2e_run, savings):
    """After the baseline, leaving out the injected faults' days (plant_b's waste is negative savings, the
    improvement positive), no plant claims a measurable improvement, and the remaining days' savings are consistent
    with zero: inside their 95 % band or, where the band (built from errors inside the baseline's conditions) is
    narrower, within 2 % of the expected energy, the daily accuracy the plant-hour template is accountable for. It
    only sees total running minutes, not which line runs, so days whose line mix the baseline never saw (plant_b's
    clean days: -1.0 % and -1.6 %) fall outside the band; docs/operations.md reports the figures."""
    from plant_assets.operations.rollout_scorecard import first_measurable_improvement

    energy_faults = ("energy_waste", "low_output_waste", "efficiency_improvement")
    faulted = {(f["plant_id"], d) for f in e2e_run["faults"] if f["type"] in energy_faults for d in _fault_days(f)}
    improved = {f["plant_id"] for f in e2e_run["faults"] if f["type"] == "efficiency_improvement"}
    daily = savings["daily"]
    assert set(daily["plant_id"]) == set(e2e_run["plants"])
    checked_clean = 0
    for plant_id, rows in daily.groupby("plant_id"):
        if plant_id not in improved:
            assert first_measurable_improvement(rows) is None, plant_id
        one_day_band = float(rows["uncertainty_kwh"].iloc[0])  # the band grows with sqrt(days)
        clean = rows[[(plant_id, d) not in faulted for d in rows["production_date"]]]
        if clean.empty:  # plant_a: every reporting day of the e2e window carries a fault
            continue
        checked_clean += 1
        total, band = float(clean["savings_kwh"].sum()), one_day_band * math.sqrt(len(clean))
        expected = float(clean["expected_kwh"].sum())
        print(f"{plant_id}: {len(clean)} clean reporting days, savings {total:.1f} kWh ({total / expected:+.2%}), "
              f"band +-{band:.1f} kWh")
        assert len(clean) >= 1 and abs(total) <= max(band, MODEL_ACCURACY * expected), (plant_id, total, band)
    assert checked_clean >= 2, "plant_b's and plant_c's clean reporting days"
