"""The simulator's low-output waste (issue 20): on its day the lines run orders only inside the local production
hours while the base load is multiplied all day; the truth records the waste exactly and no other day moves."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from plant_assets.core.plant_config import load_plants
from plant_assets.core.settings import REPO_ROOT
from plant_assets.simulator import SimulationProfileError, load_profile, simulate_plants

START = date(2026, 9, 7)
DAYS = 4
LOW_OUTPUT = {"type": "low_output_waste", "start_day": 2, "end_day": 2, "production_hours": [6, 18],
              "base_load_factor": 2.5}
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
    day = faulted.loc[2]
    # the waste is the extra 1.5 x idle load over 24 h, with the minute noise (2 %, mean 0) averaged out
    assert day["injected_waste_kwh"] == pytest.approx(1.5 * BASE_KW * 24, rel=0.01)
    # and the day's raw energy stays below the clean day's while its output is about half
    assert day["energy_kwh"] < 0.9 * clean.loc[2, "energy_kwh"]
    assert day["units_produced"] < 0.6 * clean.loc[2, "units_produced"]
    # no order runs outside 06:00-18:00 local on the day
    tz = ZoneInfo("America/Chicago")
    local = lambda c: pd.to_datetime(runs[c]).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)  # noqa: E731
    start, end = local("start_utc"), local("end_utc")
    on_day = (start < pd.Timestamp("2026-09-10")) & (end > pd.Timestamp("2026-09-09"))
    assert on_day.any()
    assert (start[on_day] >= pd.Timestamp("2026-09-09 06:00")).all() and (end[on_day] <= pd.Timestamp("2026-09-09 18:00")).all()
    (record,) = faults
    assert (record["type"], record["start_date"], record["production_hours"]) == ("low_output_waste", "2026-09-09", [6, 18])
    assert record["injected_waste_kwh"] == pytest.approx(day["injected_waste_kwh"], abs=1e-3)


def test_energy_waste_days_record_their_waste_too(tmp_path):
    daily, _, faults = _simulate(tmp_path, "waste", [{"type": "energy_waste", "start_day": 1, "end_day": 2,
                                                      "base_load_factor": 2.0}])
    assert daily.loc[[1, 2], "injected_waste_kwh"].to_numpy() == pytest.approx([BASE_KW * 24] * 2, rel=0.01)
    assert (daily.loc[[0, 3], "injected_waste_kwh"] == 0).all()
    assert faults[0]["injected_waste_kwh"] == pytest.approx(daily["injected_waste_kwh"].sum(), abs=1e-3)


def test_low_output_waste_is_validated():
    plant = load_plants(REPO_ROOT / "plants")["plant_b"]
    for bad in ({**LOW_OUTPUT, "production_hours": [18, 6]}, {**LOW_OUTPUT, "production_hours": [6, 25]},
                {**LOW_OUTPUT, "base_load_factor": 0.9}, {**LOW_OUTPUT, "lines": ["L9"]}):
        with pytest.raises(SimulationProfileError):
            load_profile(plant.model_copy(update={"simulation": {**plant.simulation, "faults": [bad]}}))
