"""plant.yaml machine_states: numeric codes and text states (MTConnect execution) by configuration alone, and
the registry rows dbt reads (int_line_state_minutes matches a text key against status_text). Expected values
are written by hand."""

from __future__ import annotations

import pytest

from plant_assets.core.plant_config import PlantConfigError, load_plant
from plant_assets.ingest.plant_tables import registry_tables
from tests.unit.test_optional_streams import plant_folder

STATE_ROW = "X,machine_state,dimensionless,L1,L1,,,\n"


def test_text_states_and_codes_load_and_reach_the_registry(tmp_path):
    extra = "machine_states: {ACTIVE: running, READY: idle, ' INTERRUPTED ': down, 'ON': idle, 2: idle, 1.5: down}"
    plant = load_plant(plant_folder(tmp_path, STATE_ROW, extra))
    assert plant.machine_states == {"ACTIVE": "running", "READY": "idle", "INTERRUPTED": "down", "ON": "idle",
                                    2.0: "idle", 1.5: "down"}
    rows = registry_tables({plant.plant_id: plant})["plants"].to_pylist()[0]["machine_states"]
    assert rows == [
        {"code": 1.5, "text": None, "state": "down"}, {"code": 2.0, "text": None, "state": "idle"},
        {"code": None, "text": "ACTIVE", "state": "running"}, {"code": None, "text": "INTERRUPTED", "state": "down"},
        {"code": None, "text": "ON", "state": "idle"}, {"code": None, "text": "READY", "state": "idle"},
    ]


def test_numeric_codes_are_unchanged(tmp_path):
    plant = load_plant(plant_folder(tmp_path, STATE_ROW, "machine_states: {1: running, 2: idle, 3: down}"))
    assert plant.machine_states == {1.0: "running", 2.0: "idle", 3.0: "down"}
    rows = registry_tables({plant.plant_id: plant})["plants"].to_pylist()[0]["machine_states"]
    assert [(r["code"], r["text"], r["state"]) for r in rows] == [(1.0, None, "running"), (2.0, None, "idle"),
                                                                 (3.0, None, "down")]


@pytest.mark.parametrize("extra, message", [
    ("machine_states: {ON: running, OFF: idle}", "was read as a boolean: quote"),  # YAML 1.1: ON is True
    ("machine_states: {ACTIVE: busy}", "Input should be 'running', 'idle' or 'down'"),
    ("machine_states: {'  ': idle}", "must be a numeric code or a non-empty text state"),
])
def test_keys_yaml_misreads_and_unknown_states_are_refused(tmp_path, extra, message):
    with pytest.raises(PlantConfigError, match=message):
        load_plant(plant_folder(tmp_path, STATE_ROW, extra))
