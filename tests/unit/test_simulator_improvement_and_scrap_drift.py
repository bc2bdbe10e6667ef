"""The efficiency-improvement and scrap-drift faults of the simulator: exact injected savings in the truth,
and no other draw of the plant moves (energy waste and motors stay where they were)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from plant_assets.core.plant_config import load_plants
from plant_assets.core.settings import REPO_ROOT
from plant_assets.simulator import SimulationProfileError, load_profile, simulate_plants

START = date(2026, 9, 7)
DAYS = 6
IMPROVEMENT = {"type": "efficiency_improvement", "start_day": 3, "base_load_factor": 0.75, "run_load_factor": 0.9,
               "lines": ["L1", "L2"], "description": "leak programme"}
DRIFT = {"type": "scrap_drift", "start_day": 2, "end_day": 3, "scrap_factor": 3.0, "lines": ["L3"]}


def _simulate(tmp_path, name: str, faults: list[dict]):
    plant = load_plants(REPO_ROOT / "plants")["plant_a"]
    plant = plant.model_copy(update={"simulation": {**plant.simulation, "faults": faults}})
    root = tmp_path / name
    simulate_plants({"plant_a": plant}, START, DAYS, root / "landing", root / "truth")
    read = lambda f: pd.read_csv(root / "truth" / f, dtype={"order_id": str})  # noqa: E731
    return read("daily.csv"), read("runs.csv"), json.loads((root / "truth" / "faults.json").read_text())


def test_injected_savings_are_exact_and_nothing_else_moves(tmp_path):
    clean, clean_runs, _ = _simulate(tmp_path, "clean", [])
    improved, runs, faults = _simulate(tmp_path, "improved", [IMPROVEMENT])
    # Same schedule, units and scrap; energy lower by exactly the recorded savings from start_day on.
    for column in ("units_produced", "scrap_qty", "running_min", "unplanned_downtime_min"):
        assert (clean[column] == improved[column]).all(), column
    assert (clean["injected_savings_kwh"] == 0).all()
    assert (improved["injected_savings_kwh"].iloc[:3] == 0).all() and (improved["injected_savings_kwh"].iloc[3:] > 0).all()
    assert (improved["energy_kwh"] + improved["injected_savings_kwh"]).to_numpy() == pytest.approx(clean["energy_kwh"].to_numpy(), abs=1e-5)
    # L3 is not in the programme: its runs use the same energy.
    l3 = runs["line_id"] == "L3"
    assert runs.loc[l3, "energy_kwh"].to_numpy() == pytest.approx(clean_runs.loc[l3, "energy_kwh"].to_numpy())
    record = next(f for f in faults if f["type"] == "efficiency_improvement")
    assert record["start_date"] == "2026-09-10" and record["end_date"] is None and record["lines"] == ["L1", "L2"]
    assert record["injected_savings_kwh"] == pytest.approx(improved["injected_savings_kwh"].sum(), abs=1e-3)


def test_scrap_drift_raises_scrap_on_its_line_and_days_only(tmp_path):
    clean, clean_runs, _ = _simulate(tmp_path, "clean", [])
    drifted, runs, faults = _simulate(tmp_path, "drift", [DRIFT])
    assert (clean["energy_kwh"] == drifted["energy_kwh"]).all() and (clean["units_produced"] == drifted["units_produced"]).all()
    merged = clean_runs.merge(runs, on=["order_id", "line_id"], suffixes=("_clean", ""))
    merged["day"] = (pd.to_datetime(merged["start_utc"]) - pd.Timestamp(START)).dt.days
    others = merged[merged["line_id"] != "L3"]
    assert (others["scrap_qty"] == others["scrap_qty_clean"]).all()
    drift = merged[(merged["line_id"] == "L3") & merged["day"].between(2, 2)]  # runs wholly inside the drift
    share = drift["scrap_qty"].sum() / drift["units_produced"].sum()
    clean_share = drift["scrap_qty_clean"].sum() / drift["units_produced"].sum()
    assert share == pytest.approx(3 * clean_share, rel=0.15)
    record = next(f for f in faults if f["type"] == "scrap_drift")
    assert (record["start_date"], record["end_date"], record["scrap_factor"]) == ("2026-09-09", "2026-09-10", 3.0)


def test_new_faults_are_validated():
    plant = load_plants(REPO_ROOT / "plants")["plant_a"]
    for bad in ({**IMPROVEMENT, "base_load_factor": 1.2}, {**DRIFT, "scrap_factor": 0.5}, {**DRIFT, "lines": ["L9"]},
                {**IMPROVEMENT, "start_day": 4, "end_day": 2}):
        with pytest.raises(SimulationProfileError):
            load_profile(plant.model_copy(update={"simulation": {**plant.simulation, "faults": [bad]}}))
