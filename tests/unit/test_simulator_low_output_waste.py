"""The simulator's low-output waste (issue 20): on its day the starved lines make a share of their units while the
base load is multiplied all day; the truth records the waste exactly and no other day moves."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from plant_assets.core.plant_config import load_plants
from plant_assets.core.settings import REPO_ROOT
from plant_assets.simulator import SimulationProfileError, load_profile, simulate_plants

START = date(2026, 9, 7)
DAYS = 4
LOW_OUTPUT = {"type": "low_output_waste", "start_day": 2, "end_day": 2, "output_factor": 0.4, "base_load_factor": 2.5}
# plant_b's idle load: 70 + 72 + 34 kW (plants/plant_b/plant.yaml simulation.lines)
BASE_KW = 70 + 72 + 34


def _simulate(tmp_path, name: str, faults: list[dict]):
    plant = load_plants(REPO_ROOT / "plants")["plant_b"]
    plant = plant.model_copy(update={"simulation": {**plant.simulation, "faults": faults}})
    root = tmp_path / name
    simulate_plants({"plant_b": plant}, START, DAYS, root / "landing", root / "truth")
    read = lambda f: pd.read_csv(root / "truth" / f, dtype={"order_id": str})  # noqa: E731
    return read("daily.csv"), read("runs.csv"), json.loads((root / "truth" / "faults.json").read_text())


def test_low_output_day_wastes_its_recorded_energy_and_nothing_else_moves(tmp_path):
    clean, clean_runs, _ = _simulate(tmp_path, "clean", [])
    faulted, runs, faults = _simulate(tmp_path, "low_output", [LOW_OUTPUT])
    other = clean.index != 2
    for column in ("energy_kwh", "units_produced", "scrap_qty", "running_min", "unplanned_downtime_min"):
        assert (clean.loc[other, column] == faulted.loc[other, column]).all(), column
    assert (faulted.loc[other, "injected_waste_kwh"] == 0).all()
    # the same orders and stops, fewer units: 40 % of the clean day's, binomially thinned
    assert list(runs["start_utc"]) == list(clean_runs["start_utc"]) and list(runs["end_utc"]) == list(clean_runs["end_utc"])
    day, clean_day = faulted.loc[2], clean.loc[2]
    assert day["running_min"] == clean_day["running_min"]
    assert day["units_produced"] == pytest.approx(0.4 * clean_day["units_produced"], rel=0.01)
    # the waste is the extra 1.5 x idle load over 24 h, with the minute noise (2 %, mean 0) averaged out
    assert day["injected_waste_kwh"] == pytest.approx(1.5 * BASE_KW * 24, rel=0.01)
    # and the day's raw energy stays below the clean day's
    assert day["energy_kwh"] < 0.9 * clean_day["energy_kwh"]
    (record,) = faults
    assert (record["type"], record["start_date"], record["output_factor"]) == ("low_output_waste", "2026-09-09", 0.4)
    assert record["injected_waste_kwh"] == pytest.approx(day["injected_waste_kwh"], abs=1e-3)


def test_energy_waste_days_record_their_waste_too(tmp_path):
    daily, _, faults = _simulate(tmp_path, "waste", [{"type": "energy_waste", "start_day": 1, "end_day": 2,
                                                      "base_load_factor": 2.0}])
    assert daily.loc[[1, 2], "injected_waste_kwh"].to_numpy() == pytest.approx([BASE_KW * 24] * 2, rel=0.01)
    assert (daily.loc[[0, 3], "injected_waste_kwh"] == 0).all()
    assert faults[0]["injected_waste_kwh"] == pytest.approx(daily["injected_waste_kwh"].sum(), abs=1e-3)


def test_low_output_waste_is_validated():
    plant = load_plants(REPO_ROOT / "plants")["plant_b"]
    for bad in ({**LOW_OUTPUT, "output_factor": 1.0}, {**LOW_OUTPUT, "output_factor": 0.0},
                {**LOW_OUTPUT, "base_load_factor": 0.9}, {**LOW_OUTPUT, "lines": ["L9"]},
                {**LOW_OUTPUT, "start_day": 3, "end_day": 2}):
        with pytest.raises(SimulationProfileError):
            load_profile(plant.model_copy(update={"simulation": {**plant.simulation, "faults": [bad]}}))
