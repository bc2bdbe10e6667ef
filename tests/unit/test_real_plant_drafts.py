"""The configs of the three real plants (tests/fixtures/real_plants/<plant>/plant.yaml + tag_map.csv, written by
hand as a new user would): today's config model loads them and their committed exports reconcile.

What a config still cannot express is written in its plant.yaml (issue 19); the expected counts below are the
excerpts' lines and header columns, counted by plain Python."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest

from plant_assets.core.plant_config import load_plant
from plant_assets.ingest.exports import files_for_day, parse_historian
from plant_assets.quality.suites import suite_parameters
from tests.conftest import REPO_ROOT
from tests.unit.test_dialects import assert_frames

REAL = REPO_ROOT / "tests" / "fixtures" / "real_plants"


def cells(path, *time_columns: str) -> int:
    """Records of a wide file: every data row's cells except the time columns'."""
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return len(rows) * (len(header) - len(time_columns)) if set(time_columns) <= set(header) else -1


@pytest.mark.parametrize("plant_id, day, raw_records", [
    ("nist_mazak01", date(2018, 7, 10), lambda p: len(p.read_text().splitlines())),
    ("melbourne_wwtp", date(2014, 1, 2), lambda p: cells(p, "year", "month", "day")),
    ("ims_bearing", date(2004, 2, 18), lambda p: cells(p, "Datetime")),
])
def test_draft_loads_and_its_export_reconciles(plant_id, day, raw_records):
    folder = REAL / plant_id
    plant = load_plant(folder)
    assert plant.plant_id == plant_id and (folder / "SOURCE.txt").is_file()
    for suite, overrides in plant.quality_gates.items():
        suite_parameters(suite, overrides)  # a threshold name the suite does not know would raise
    files = files_for_day(plant, folder / "exports", day, "historian")
    assert len(files) == 1
    with duckdb.connect() as con:
        result = parse_historian(plant, files, day, con)
    assert_frames(result)
    rec = result.reconciliation.to_pylist()[0]
    print(plant_id, day, rec, result.reason_counts())
    assert rec["raw_records"] == raw_records(files[0]) > 0


@pytest.mark.parametrize("plant_id, history_start, signals", [
    ("nist_mazak01", date(2018, 7, 2), {"execution": "machine_state", "Sload": "process_load",
                                        "Srpm": "process_speed", "S2load": "process_load", "S2rpm": "process_speed"}),
    ("ims_bearing", date(2004, 2, 12), {f"Bearing {i}": "motor_vibration_acceleration" for i in range(1, 5)}),
])
def test_configs_need_no_mes_no_product_and_map_their_real_signals(plant_id, history_start, signals):
    plant = load_plant(REAL / plant_id)
    assert plant.production_runs is None and plant.downtime_events is None and plant.products == []
    assert plant.history_start == history_start
    assert {t.source_tag: t.signal for t in plant.tag_map} == signals


def test_nist_maps_execution_text_states_and_leaves_unavailable_unobserved():
    plant = load_plant(REAL / "nist_mazak01")
    states = plant.machine_states
    assert states["ACTIVE"] == "running" and states["INTERRUPTED"] == "down"
    assert {states[s] for s in ("READY", "STOPPED", "FEED_HOLD")} == {"idle"}
    assert "UNAVAILABLE" not in states  # machine off / agent disconnected: not observed (docs/contracts.md)


def test_ims_ignores_its_unnamed_index_column_and_keeps_every_bearing_cell():
    plant = load_plant(REAL / "ims_bearing")
    path = REAL / "ims_bearing" / "exports" / "2nd_test_resmaple_10minutes.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[0] == "" and len(rows) == 696
    day = date(2004, 2, 18)
    on_day = sum(1 for r in rows if r[1].startswith("2004.02.18."))
    with duckdb.connect() as con:
        result = parse_historian(plant, [path], day, con)
    assert result.reason_counts() == {"ignored_column": len(rows), "outside_partition_day": 4 * (len(rows) - on_day)}
    assert result.reconciliation.to_pylist()[0]["accepted_records"] == 4 * on_day == 4 * 144
