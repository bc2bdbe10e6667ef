"""The draft configs of the three real plants (tests/fixtures/real_plants/<plant>/plant.yaml + tag_map.csv,
written by hand as a new user would): today's config model loads them and their committed exports reconcile.

What each draft still lacks is written in its plant.yaml (issue 19); the expected counts below are the
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
