"""A refused or vanished export never wipes an ingested day (issue 23, defect 6).

plant_a's raw_historian asset, materialized by Dagster for one plant-day in a temp lake: first from a good
export (2 readings), then with the export replaced by a symlink leading out of the landing folder, then with
the export gone. The re-runs keep the earlier partition and name the refused file and why; a first ingest of a
day whose only export is refused quarantines the file by name.
"""

from __future__ import annotations

import os
from datetime import date

import dagster as dg
import pyarrow.parquet as pq
import pytest

from plant_assets.core import lake as lake_paths
from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.ingest.assets import raw_historian
from plant_assets.defs.partitions import plant_day_key
from plant_assets.defs.resources import LakeResource, PlantsResource

DAY = date(2026, 9, 7)
EXPORT = "PI_RecordedValues_20260907.csv"
GOOD = ("Tag,Timestamp,Value,Status\n"
        "RHF.L1.EM01.KWH_TOT,07-Sep-2026 00:00:00,1520.25,Good\n"
        "RHF.L1.EM01.KWH_TOT,07-Sep-2026 00:01:00,1521.00,Good\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANT_ASSETS_HOME", str(tmp_path / "home"))
    landing = tmp_path / "landing" / "plant_a"
    landing.mkdir(parents=True)
    resources = {"lake": LakeResource(lake_dir=str(tmp_path / "lake"), landing_dir=str(tmp_path / "landing")),
                 "plants": PlantsResource(plants_dir=str(REPO_ROOT / "plants"))}
    return tmp_path, landing, resources


def _ingest(resources, day: date = DAY) -> dict:
    result = dg.materialize([raw_historian], resources=resources, partition_key=str(plant_day_key("plant_a", day)))
    assert result.success
    (materialization,) = result.asset_materializations_for_node("raw_historian")
    return {k: v.value for k, v in materialization.metadata.items()}


def test_a_symlinked_or_vanished_export_keeps_the_ingested_day(site):
    tmp_path, landing, resources = site
    readings = lake_paths.accepted_path(tmp_path / "lake", "historian", "plant_a", DAY)
    (landing / EXPORT).write_text(GOOD)
    assert _ingest(resources)["accepted_records"] == 2
    before = pq.read_table(readings)

    outside = tmp_path / "elsewhere.csv"
    outside.write_text(GOOD)
    (landing / EXPORT).unlink()
    os.symlink(outside, landing / EXPORT)
    meta = _ingest(resources)
    assert set(meta["refused_files"]) == {EXPORT}
    assert "leads out of the landing folder" in meta["refused_files"][EXPORT]
    assert meta["kept_earlier_partition"].startswith(
        f"kept the earlier partition of 2 rows: {EXPORT} refused: a symlink that leads out of the landing folder")
    assert pq.read_table(readings).equals(before)

    (landing / EXPORT).unlink()  # the export vanished
    meta = _ingest(resources)
    assert meta["kept_earlier_partition"] == ("kept the earlier partition of 2 rows: no export found in the "
                                              "landing folder")
    assert meta["refused_files"] == {}
    assert pq.read_table(readings).equals(before)


def test_a_refused_export_on_a_new_day_is_quarantined_by_name(site):
    tmp_path, landing, resources = site
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(GOOD)
    os.symlink(outside, landing / EXPORT)
    meta = _ingest(resources)
    assert meta["accepted_records"] == 0 and meta["quarantined_records"] == 1
    (row,) = pq.read_table(lake_paths.quarantine_path(tmp_path / "lake", "historian", "plant_a", DAY)).to_pylist()
    assert row["source_file"] == EXPORT and row["source_line"] == 0 and row["reason_code"] == "unreadable_file"
    assert row["reason_detail"].startswith(f"{EXPORT}: refused: a symlink that leads out of the landing folder")
    (rec,) = pq.read_table(lake_paths.reconciliation_path(tmp_path / "lake", "historian", "plant_a", DAY)).to_pylist()
    assert (rec["raw_records"], rec["accepted_records"], rec["quarantined_records"]) == (1, 0, 1)
