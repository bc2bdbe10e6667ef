"""Exports of any span (plant_assets/ingest/staging.py): a file holding many days is read once, cut into
plant-days, reconciles per file across its days, and overlapping deliveries double-count nothing.

The files are written here by hand; each expected count and line number is read off the file text below.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from plant_assets.core.plant_config import PlantConfig, TagMapping
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest import exports, staging
from plant_assets.ingest.exports import parse_stream
from plant_assets.ingest.patterns import names_one_day, span_glob

SPAN = (date(2026, 9, 1), date(2026, 9, 30))

# Europe/Berlin local time, PI DataLink format. Line numbers (1 = header) and the day each line belongs to:
HISTORY = """Tag,Timestamp,Value,Status
RF_L1_ENERGY,06-Sep-2026 23:59:00,100.0,Good
RF_L1_ENERGY,07-Sep-2026 00:00:00,101.0,Good
RF_L1_ENERGY,07-Sep-2026 12:00:00,150.0,Good
RF_L1_ENERGY,not a time,1.0,Good
RF_L1_ENERGY,08-Sep-2026 00:30:00,200.0,Good
NOT_MAPPED,08-Sep-2026 01:00:00,5,Good
RF_L1_COUNT,06-Sep-2026 10:00:00,7,Good
RF_L1_COUNT,09-Sep-2026 10:00:00,9,Good
RF_L1_COUNT,15-Jan-2025 10:00:00,9,Good
"""
# day -> (accepted source lines, {quarantined source line: reason})
EXPECTED = {
    date(2026, 9, 1): ([], {10: "outside_partition_day"}),  # 2025: before the first partition, reported on it
    date(2026, 9, 6): ([2, 8], {}),  # line 8 comes back in time: rows need not be sorted
    date(2026, 9, 7): ([3, 4], {5: "bad_timestamp"}),  # a line without a time goes with the line before it
    date(2026, 9, 8): ([6], {7: "unknown_tag"}),
    date(2026, 9, 9): ([9], {}),
}
DATA_LINES = 9


def _plant(**historian) -> PlantConfig:
    raw = yaml.safe_load((REPO_ROOT / "plants" / "plant_a" / "plant.yaml").read_text(encoding="utf-8"))
    raw["historian"] = {**raw["historian"], **historian}
    tags = (
        TagMapping(source_tag="RF_L1_ENERGY", signal="energy_total", source_unit="kWh", line_id="L1", asset_id="L1"),
        TagMapping(source_tag="RF_L1_COUNT", signal="production_count_total", source_unit="count", line_id="L1",
                   asset_id="L1"),
    )
    return PlantConfig(**raw, tag_map=tags)


def _day(plant, landing: Path, stage: Path, day: date, con):
    files = staging.inputs_for_day(plant, "historian", landing, stage, day, SPAN, con)
    return files, parse_stream(plant, "historian", files, day, con)


def _deliver(path: Path, text: str, at: float) -> Path:
    path.write_text(text)
    os.utime(path, (at, at))
    return path


@pytest.fixture
def con():
    import duckdb

    with duckdb.connect() as connection:
        yield connection


def test_patterns_without_one_day_are_valid_and_spans():
    plant = _plant(file_pattern="export.csv")
    assert plant.historian.file_pattern == "export.csv"
    assert _plant(file_pattern="site_meter_{date:%Y}.csv").historian.file_pattern == "site_meter_{date:%Y}.csv"
    assert names_one_day("PI_{date:%Y%m%d}.csv") and names_one_day("x_{date:%j}_{date:%Y}.csv")
    assert not names_one_day("site_meter_{date:%Y}.csv") and not names_one_day("x_{date:%Y-%m}.csv")
    assert not names_one_day("export.csv")
    assert span_glob("site_meter_{date:%Y}_{date}.csv") == "site_meter_*_*.csv"


def test_a_multi_day_file_is_cut_into_its_days_and_reconciles(tmp_path, con):
    plant = _plant(file_pattern="export.csv")
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    landing.mkdir()
    _deliver(landing / "export.csv", HISTORY, 1_000_000)
    raw_total = 0
    for offset in range(30):
        day = SPAN[0] + timedelta(days=offset)
        files, parsed = _day(plant, landing, stage, day, con)
        if day not in EXPECTED:
            assert files == [], day  # the file does not cover this day: no input, no reconciliation row
            continue
        accepted_lines, quarantined = EXPECTED[day]
        assert sorted(parsed.accepted.column("source_line").to_pylist()) == accepted_lines, day
        quarantine = parsed.quarantine.to_pylist()
        assert {q["source_line"]: q["reason_code"] for q in quarantine} == quarantined, day
        assert all(q["source_file"] == "export.csv" for q in quarantine)
        (recon,) = parsed.reconciliation.to_pylist()
        assert recon["raw_records"] == recon["accepted_records"] + recon["quarantined_records"]
        raw_total += recon["raw_records"]
    assert raw_total == DATA_LINES
    # The accepted instants are the local times converted (CEST = UTC+2).
    _, parsed = _day(plant, landing, stage, date(2026, 9, 7), con)
    assert [str(t) for t in parsed.accepted.column("ts_utc").to_pylist()] == [
        "2026-09-06 22:00:00", "2026-09-07 10:00:00"]


def test_the_file_is_parsed_once_and_a_redelivery_counts_nothing_twice(tmp_path, con, monkeypatch):
    plant = _plant(file_pattern="export*.csv")
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    landing.mkdir()
    _deliver(landing / "export.csv", HISTORY, 1_000_000)
    probes = []
    real = exports.parse_stream
    monkeypatch.setattr(exports, "parse_stream", lambda *a, **k: probes.append(a[2]) or real(*a, **k))
    for day in EXPECTED:
        _day(plant, landing, stage, day, con)
    assert len(probes) == 1  # staged once for all its days
    # The same content delivered again under another name: no second parse; its readings are duplicates.
    shutil.copy(landing / "export.csv", landing / "export_again.csv")
    os.utime(landing / "export_again.csv", (2_000_000, 2_000_000))
    files, parsed = _day(plant, landing, stage, date(2026, 9, 7), con)
    assert len(probes) == 1
    assert [f.name for f in files] == ["export.csv", "export_again.csv"]
    accepted = parsed.accepted.to_pylist()
    assert [(a["source_file"], a["source_line"]) for a in accepted] == [("export_again.csv", 3), ("export_again.csv", 4)]
    reasons = sorted((q["source_file"], q["source_line"], q["reason_code"]) for q in parsed.quarantine.to_pylist())
    assert reasons == [("export.csv", 3, "duplicate"), ("export.csv", 4, "duplicate"), ("export.csv", 5, "bad_timestamp"),
                       ("export_again.csv", 5, "bad_timestamp")]
    by_file = {r["source_file"]: r for r in parsed.reconciliation.to_pylist()}
    assert by_file["export.csv"]["raw_records"] == by_file["export_again.csv"]["raw_records"] == 3


def test_the_newest_delivery_of_a_reading_wins(tmp_path, con):
    """A nightly file overlapping the history export (a corrected 12:00 reading): whichever was delivered last."""
    plant = _plant(file_pattern="PI_{date:%Y%m%d}.csv", history_pattern="history*.csv")
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    landing.mkdir()
    history = _deliver(landing / "history_2026.csv", HISTORY, 1_000_000)
    daily_text = "Tag,Timestamp,Value,Status\nRF_L1_ENERGY,07-Sep-2026 12:00:00,155.0,Good\n"
    _deliver(landing / "PI_20260907.csv", daily_text, 2_000_000)

    def noon_value():
        _, parsed = _day(plant, landing, stage, date(2026, 9, 7), con)
        noon = [a for a in parsed.accepted.to_pylist() if str(a["ts_utc"]) == "2026-09-07 10:00:00"]
        duplicates = [q["source_file"] for q in parsed.quarantine.to_pylist() if q["reason_code"] == "duplicate"]
        assert len(noon) == 1 and len(duplicates) == 1
        return noon[0]["value"], noon[0]["source_file"], duplicates[0]

    assert noon_value() == (155.0, "PI_20260907.csv", "history_2026.csv")
    os.utime(history, (3_000_000, 3_000_000))  # the history file re-delivered after the nightly one
    assert noon_value() == (150.0, "history_2026.csv", "PI_20260907.csv")
    # The daily pattern's own day still reads the daily file once; other days only the history.
    files, _ = _day(plant, landing, stage, date(2026, 9, 8), con)
    assert [f.name for f in files] == ["history_2026.csv"]


def test_a_wide_export_keeps_its_header_for_every_day(tmp_path, con):
    raw = yaml.safe_load((REPO_ROOT / "plants" / "plant_b" / "plant.yaml").read_text(encoding="utf-8"))
    raw["historian"] = {**raw["historian"], "file_pattern": "WideHistory.csv"}
    tags = (TagMapping(source_tag="CF_L1_ENERGY", signal="energy_total", source_unit="MWh", line_id="L1", asset_id="L1"),
            TagMapping(source_tag="CF_L1_COUNT", signal="production_count_total", source_unit="count", line_id="L1",
                       asset_id="L1", rollover=10000))
    plant = PlantConfig(**raw, tag_map=tags)
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    landing.mkdir()
    _deliver(landing / "WideHistory.csv", "DateTime,CF_L1_ENERGY,CF_L1_COUNT\n"
             "2026-09-07 23:59:00.000,1.5,10\n2026-09-08 00:00:00.000,1.6,\n2026-09-08 00:01:00.000,1.7,12\n", 1_000_000)
    days = {}
    for day in (date(2026, 9, 7), date(2026, 9, 8)):
        _, parsed = _day(plant, landing, stage, day, con)
        days[day] = (parsed.accepted.column("source_line").to_pylist(), parsed.reconciliation.to_pylist()[0])
    assert sorted(days[date(2026, 9, 7)][0]) == [2, 2]  # the 23:59 row: two cells
    assert sorted(days[date(2026, 9, 8)][0]) == [3, 3, 4, 4]
    assert sum(r["raw_records"] for _, r in days.values()) == 6  # 3 rows x 2 tags


def test_the_new_export_sensor_requests_every_day_a_history_file_covers(tmp_path, con):
    from plant_assets.defs.automation.sensors import scan_new_exports

    plant = _plant(file_pattern="PI_{date:%Y%m%d}.csv", history_pattern="history*.csv")
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    (landing / plant.plant_id).mkdir(parents=True)
    _deliver(landing / plant.plant_id / "history_2026.csv", HISTORY, 1_000_000)
    _deliver(landing / plant.plant_id / "PI_20260910.csv", "Tag,Timestamp,Value,Status\n", 1_000_000)

    def days(plant, stream, path):
        assert stream == "historian"
        staged = staging.stage_export(plant, stream, path, stage, SPAN, con)
        return sorted(date.fromisoformat(d) for d in staged.records_by_day)

    due, _ = scan_new_exports({plant.plant_id: plant}, landing, {}, 2_000_000, span_days=days)
    assert {day for (_, day) in due} == {*EXPECTED, date(2026, 9, 10)}
    assert due[(plant.plant_id, date(2026, 9, 7))] == ["history_2026.csv"]


def test_day_partitions_start_at_the_earliest_history_start(tmp_path):
    from plant_assets.defs.partitions import DEFAULT_FIRST_DAY, first_production_day

    for plant_id, extra in (("plant_x", "history_start: 2018-01-01\n"), ("plant_y", ""), ("plant_z", "[broken")):
        (tmp_path / plant_id).mkdir()
        (tmp_path / plant_id / "plant.yaml").write_text(f"plant_id: {plant_id}\n{extra}")
    assert first_production_day(tmp_path) == "2018-01-01"
    (tmp_path / "plant_x" / "plant.yaml").write_text("plant_id: plant_x\nhistory_start: 2027-01-01\n")
    assert first_production_day(tmp_path) == DEFAULT_FIRST_DAY == "2026-09-01"  # never later than the demo's


def test_a_staged_file_keeps_its_damaged_lines_quarantined_one_by_one(tmp_path, con, monkeypatch):
    """A too-long line and a line with a NUL byte are cut into their day and quarantined there alone, with
    why; the file's other lines are read (issue 23)."""
    monkeypatch.setenv("PLANT_ASSETS_MAX_LINE_BYTES", "1000")
    plant = _plant(file_pattern="export.csv")
    landing, stage = tmp_path / "landing", tmp_path / "staged"
    landing.mkdir()
    text = ("Tag,Timestamp,Value,Status\n"
            "RF_L1_ENERGY,07-Sep-2026 05:00:00,100.0,Good\n"
            "RF_L1_ENERGY,07-Sep-2026 06:00:00," + "9" * 1500 + ",Good\n"  # 13 + 21 + 1500 + 5 = 1,539 bytes
            "RF_L1_ENERGY,07-Sep-2026 07:00:00,1\x00,Good\n"
            "RF_L1_ENERGY,08-Sep-2026 05:00:00,120.0,Good\n")
    _deliver(landing / "export.csv", text, 1_000_000)
    _, parsed = _day(plant, landing, stage, date(2026, 9, 7), con)
    assert parsed.accepted.column("source_line").to_pylist() == [2]
    assert [(q["source_line"], q["reason_code"], q["reason_detail"]) for q in parsed.quarantine.to_pylist()] == [
        (3, "malformed_row", "line longer than 1000 bytes (1539 bytes); only its start is kept"),
        (4, "malformed_row", "line holds a NUL byte at character 36: binary data inside a text export"),
    ]
    _, parsed = _day(plant, landing, stage, date(2026, 9, 8), con)
    assert parsed.accepted.column("source_line").to_pylist() == [5]
