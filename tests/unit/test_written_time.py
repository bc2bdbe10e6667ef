"""Time as exports write it (issue 19, item 6): offsets and zone abbreviations in stamps, the repeated hour of
a fall-back day in shuffled order with and without marks, spring-forward times, interval-end stamps whose
midnight names the day it closes, split date and time columns, configurable column names and ignored columns.

Every fixture is a hand-written vendor-format export; every expected instant is written by hand below
(America/Chicago: CDT = UTC-5 until 2026-11-01 02:00 CDT, then CST = UTC-6; 2026-03-08 02:00 CST jumps to
03:00 CDT. Europe/Berlin: CEST = UTC+2 in September).
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from plant_assets.core.plant_config import TagMapping
from plant_assets.ingest.contract import DialectConfigError
from plant_assets.ingest.exports import parse_historian
from tests.unit.test_dialects import assert_frames, load_demo_plant, write

TAGS = (
    TagMapping(source_tag="L1.Energy", signal="energy_total", source_unit="kWh", line_id="L1", asset_id="L1"),
    TagMapping(source_tag="L1.M1.Amps", signal="motor_current", source_unit="A", line_id="L1", asset_id="L1-M1"),
)


def plant(plant_id: str, dialect: str, options: dict, pattern: str = "h_{date:%Y%m%d}.csv"):
    # plant_a is Europe/Berlin, plant_b America/Chicago (their plant.yaml)
    return load_demo_plant(plant_id, TAGS, historian={"dialect": dialect, "file_pattern": pattern, "options": options})


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def parse(p, tmp_path, text: str, day: date, name: str = "h.csv"):
    result = parse_historian(p, [write(tmp_path / name, text)], day, con=duckdb.connect())
    assert_frames(result)  # schemas and raw = accepted + quarantined per file
    return result


def readings(result) -> list[tuple[datetime, float]]:
    return sorted((r["ts_utc"], r["value"]) for r in result.accepted.to_pylist())


def reasons(result) -> dict[int, str]:
    return {r["source_line"]: r["reason_code"] for r in result.quarantine.to_pylist()}


FALL_DAY = date(2026, 11, 1)
# The fall-back hour, first pass (CDT) then second pass (CST), as UTC instants, with the meter's true values.
FALL_TRUTH = [(datetime(2026, 11, 1, 5, 30), 100.0), (datetime(2026, 11, 1, 6, 0), 101.0),
              (datetime(2026, 11, 1, 6, 30), 102.0), (datetime(2026, 11, 1, 7, 0), 103.0),
              (datetime(2026, 11, 1, 7, 30), 104.0), (datetime(2026, 11, 1, 8, 0), 105.0)]

PI_FALL_SHUFFLED_MARKED = """Tag,Timestamp,Value,Status
L1.Energy,01-Nov-2026 01:30:00 CST,104,Good
L1.Energy,01-Nov-2026 00:30:00 CDT,100,Good
L1.Energy,01-Nov-2026 01:30:00 CDT,102,Good
L1.Energy,01-Nov-2026 01:00:00 CST,103,Good
L1.Energy,01-Nov-2026 01:00:00 CDT,101,Good
L1.Energy,01-Nov-2026 02:00:00 CST,105,Good
"""


def test_pi_fall_back_hour_shuffled_with_zone_abbreviations(tmp_path):
    result = parse(plant("plant_b", "pi_recorded", {}), tmp_path, PI_FALL_SHUFFLED_MARKED, FALL_DAY)
    assert readings(result) == FALL_TRUTH
    assert result.quarantine.num_rows == 0


def test_pi_fall_back_hour_shuffled_without_marks_is_quarantined_not_guessed(tmp_path):
    text = PI_FALL_SHUFFLED_MARKED.replace(" CST", "").replace(" CDT", "")
    result = parse(plant("plant_b", "pi_recorded", {}), tmp_path, text, FALL_DAY)
    # 00:30 and 02:00 exist once: kept; the four stamps of the repeated hour cannot be placed
    assert readings(result) == [(datetime(2026, 11, 1, 5, 30), 100.0), (datetime(2026, 11, 1, 8, 0), 105.0)]
    assert reasons(result) == {2: "ambiguous_local_time", 4: "ambiguous_local_time", 5: "ambiguous_local_time",
                               6: "ambiguous_local_time"}
    detail = result.quarantine.to_pylist()[0]["reason_detail"]
    assert "occurs twice" in detail and "America/Chicago" in detail


def test_pi_fall_back_hour_sorted_without_marks_is_resolved_by_order(tmp_path):
    text = """Tag,Timestamp,Value,Status
L1.Energy,01-Nov-2026 00:30:00,100,Good
L1.Energy,01-Nov-2026 01:00:00,101,Good
L1.Energy,01-Nov-2026 01:30:00,102,Good
L1.Energy,01-Nov-2026 01:00:00,103,Good
L1.Energy,01-Nov-2026 01:30:00,104,Good
L1.Energy,01-Nov-2026 02:00:00,105,Good
"""
    assert readings(parse(plant("plant_b", "pi_recorded", {}), tmp_path, text, FALL_DAY)) == FALL_TRUTH


def test_pi_abbreviations_configurable(tmp_path):
    # an export that writes its own names for the two offsets
    text = PI_FALL_SHUFFLED_MARKED.replace(" CST", " HNC").replace(" CDT", " HAC")
    p = plant("plant_b", "pi_recorded", {"zone_abbreviations": {"HAC": "-05:00", "HNC": -6}})
    assert readings(parse(p, tmp_path, text, FALL_DAY)) == FALL_TRUTH
    # unknown to the zone's defaults: not read as marks, so the stamps do not parse
    result = parse(plant("plant_b", "pi_recorded", {}), tmp_path, text, FALL_DAY)
    assert set(reasons(result).values()) == {"bad_timestamp"}


def test_generic_iso_offsets_shuffled(tmp_path):
    text = """tag,timestamp,value
L1.Energy,2026-11-01T01:30:00-06:00,104
L1.Energy,2026-11-01T01:00:00-0500,101
L1.Energy,2026-11-01T00:30:00-05:00,100
L1.Energy,2026-11-01T02:00:00-06:00,105
L1.Energy,2026-11-01T01:00:00-06:00,103
L1.Energy,2026-11-01T01:30:00-05:00,102
"""
    result = parse(plant("plant_b", "generic", {"timestamp_format": "%Y-%m-%dT%H:%M:%S"}), tmp_path, text, FALL_DAY)
    assert readings(result) == FALL_TRUTH


def test_offset_the_zone_does_not_have_is_bad_timestamp_in_local_mode(tmp_path):
    text = """tag,timestamp,value
L1.Energy,2026-11-01T12:00:00+02:00,1
L1.Energy,2026-11-01T12:00:00-06:00,2
L1.Energy,2026-11-01T12:00:00Z,3
"""
    local = parse(plant("plant_b", "generic", {"timestamp_format": "%Y-%m-%dT%H:%M:%S"}), tmp_path, text, FALL_DAY)
    assert reasons(local) == {2: "bad_timestamp", 4: "bad_timestamp"}
    assert "does not have" in local.quarantine.to_pylist()[0]["reason_detail"]
    assert readings(local) == [(datetime(2026, 11, 1, 18, 0), 2.0)]  # so is Z: local mode wants the zone's offsets
    # timestamps_in utc: any written offset is taken as the instant it names
    utc = parse(plant("plant_b", "generic", {"timestamp_format": "%Y-%m-%dT%H:%M:%S", "timestamps_in": "utc"}),
                tmp_path, text, FALL_DAY)
    assert readings(utc) == [(datetime(2026, 11, 1, 10, 0), 1.0), (datetime(2026, 11, 1, 12, 0), 3.0),
                             (datetime(2026, 11, 1, 18, 0), 2.0)]


def test_spring_forward_nonexistent_times_are_quarantined(tmp_path):
    text = """Tag,Timestamp,Value,Status
L1.Energy,08-Mar-2026 01:30:00,1,Good
L1.Energy,08-Mar-2026 02:30:00,2,Good
L1.Energy,08-Mar-2026 02:30:00 CDT,3,Good
L1.Energy,08-Mar-2026 03:30:00 CDT,4,Good
L1.Energy,08-Mar-2026 01:45:00 CST,5,Good
"""
    result = parse(plant("plant_b", "pi_recorded", {}), tmp_path, text, date(2026, 3, 8))
    assert reasons(result) == {3: "bad_timestamp", 4: "bad_timestamp"}
    details = [r["reason_detail"] for r in result.quarantine.to_pylist()]
    assert "does not exist" in details[0] and "does not have" in details[1]
    assert readings(result) == [(datetime(2026, 3, 8, 7, 30), 1.0), (datetime(2026, 3, 8, 7, 45), 5.0),
                                (datetime(2026, 3, 8, 8, 30), 4.0)]


def test_pi_column_names_configurable(tmp_path):
    text = """Tag,Time,Value,Status
L1.Energy,08-Sep-2026 10:00:00,7.5,Good
"""
    default = parse(plant("plant_a", "pi_recorded", {}), tmp_path, text, date(2026, 9, 8))
    assert set(reasons(default).values()) == {"unreadable_file"}
    assert "Timestamp" in default.quarantine.to_pylist()[0]["reason_detail"]
    result = parse(plant("plant_a", "pi_recorded", {"columns": {"ts": "Time"}}), tmp_path, text, date(2026, 9, 8))
    assert readings(result) == [(datetime(2026, 9, 8, 8, 0), 7.5)]


@pytest.mark.parametrize("last", ["2026-09-08 00:00", "2026-09-08 24:00"])
def test_interval_end_midnight_names_the_day_it_closes(tmp_path, last):
    """15-minute interval-end stamps; the day's last interval (23:45-24:00 local, 21:45-22:00 UTC) is written
    with the date of the day it closes, as 00:00 (midnight_label: closing_day) or as 24:00."""
    text = f"""tag,timestamp,value
L1.Energy,2026-09-07 00:00,9
L1.Energy,2026-09-08 00:15,1
L1.Energy,2026-09-08 12:00,48
L1.Energy,{last},96
"""
    options = {"timestamp_format": "%Y-%m-%d %H:%M", "timestamp_marks": "end", "interval_seconds": 900}
    if last.endswith("00:00"):
        options["midnight_label"] = "closing_day"
    result = parse(plant("plant_a", "generic", options), tmp_path, text, date(2026, 9, 8))
    assert readings(result) == [(datetime(2026, 9, 7, 22, 0), 1.0), (datetime(2026, 9, 8, 9, 45), 48.0),
                                (datetime(2026, 9, 8, 21, 45), 96.0)]
    assert reasons(result) == {2: "outside_partition_day"}  # the end of 09-07 belongs to 09-07


def test_closing_day_needs_interval_end_stamps(tmp_path):
    with pytest.raises(DialectConfigError, match="closing_day"):
        parse(plant("plant_a", "generic", {"midnight_label": "closing_day"}), tmp_path, "tag,timestamp,value\n",
              date(2026, 9, 8))


def test_long_split_date_and_time_columns(tmp_path):
    text = """Datum;Zeit;Tag;Wert
08.09.2026;10:00;L1.Energy;5,5
08.09.2026;10:15;L1.Energy;6,25
"""
    options = {"delimiter": ";", "decimal_comma": True, "timestamp_format": "%d.%m.%Y %H:%M",
               "columns": {"tag": "Tag", "ts": ["Datum", "Zeit"], "value": "Wert"}}
    result = parse(plant("plant_a", "generic", options), tmp_path, text, date(2026, 9, 8))
    assert readings(result) == [(datetime(2026, 9, 8, 8, 0), 5.5), (datetime(2026, 9, 8, 8, 15), 6.25)]


def test_wide_year_month_day_columns_and_ignored_columns(tmp_path):
    """A daily wide export like the Melbourne WWTP file: year, month and day columns, readings, and columns
    that are not readings (ignored: counted under their own reason, never unknown_tag)."""
    text = """Year,Month,Day,L1.Energy,Comment,Row
2026,9,7,100.0,ok,1
2026,9,8,230.5,late sample,2
2026,9,9,300.0,,3
"""
    options = {"layout": "wide", "timestamp_column": ["Year", "Month", "Day"], "timestamp_format": "%Y %m %d",
               "ignore_columns": ["Comment", "row"]}
    result = parse(plant("plant_a", "generic", options), tmp_path, text, date(2026, 9, 8))
    # 2026-09-08 00:00 CEST is 2026-09-07 22:00 UTC
    assert readings(result) == [(datetime(2026, 9, 7, 22, 0), 230.5)]
    # an ignored column's cell is ignored whatever its row's day; the other days' readings are outside
    assert result.reason_counts() == {"ignored_column": 6, "outside_partition_day": 2}
    ignored = [r for r in result.quarantine.to_pylist() if r["reason_code"] == "ignored_column" and r["source_line"] == 3]
    assert [(r["source_line"], r["raw_record"]) for r in ignored] == [
        (3, "Year+Month+Day=2026 9 8; Comment=late sample"), (3, "Year+Month+Day=2026 9 8; Row=2")]
    rec = result.reconciliation.to_pylist()[0]
    assert (rec["raw_records"], rec["accepted_records"], rec["quarantined_records"]) == (9, 1, 8)


def test_aveva_wide_ignore_columns_and_offsets(tmp_path):
    text = """DateTime,L1.Energy,Operator
2026-11-01 01:30:00.000 CST,2.0,ann
2026-11-01 01:30:00.000 CDT,1.0,bob
"""
    result = parse(plant("plant_b", "aveva_wide", {"ignore_columns": ["Operator"]}), tmp_path, text, FALL_DAY)
    assert readings(result) == [(datetime(2026, 11, 1, 6, 30), 1.0), (datetime(2026, 11, 1, 7, 30), 2.0)]
    assert result.reason_counts() == {"ignored_column": 2}


def test_wide_unsorted_rows_make_the_unmarked_fall_back_hour_ambiguous(tmp_path):
    """The two 01:30 rows happen to look ordered, but the file goes back in time elsewhere (02:00 before
    00:30): the row order says nothing about which pass each 01:30 is, so neither is guessed."""
    text = """DateTime,L1.Energy
2026-11-01 02:00:00.000,5
2026-11-01 01:30:00.000,2
2026-11-01 00:30:00.000,0
2026-11-01 01:30:00.000,4
"""
    result = parse(plant("plant_b", "aveva_wide", {}), tmp_path, text, FALL_DAY)
    assert readings(result) == [(datetime(2026, 11, 1, 5, 30), 0.0), (datetime(2026, 11, 1, 8, 0), 5.0)]
    assert reasons(result) == {3: "ambiguous_local_time", 5: "ambiguous_local_time"}


def test_melbourne_wwtp_excerpt_year_month_day_columns(tmp_path):
    """The committed real Melbourne WWTP excerpt (tests/fixtures/real_plants/melbourne_wwtp, see its SOURCE.txt):
    the date is split over year, month, day; two columns are read, the other 15 ignored. Values and counts are
    read off the raw file by hand / with the csv module, not from the parser."""
    import csv
    import shutil

    from tests.conftest import REPO_ROOT

    src = REPO_ROOT / "tests" / "fixtures" / "real_plants" / "melbourne_wwtp" / "exports" / "Data-Melbourne_F.csv"
    with src.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    quantities = [c for c in header if c not in ("year", "month", "day")]
    tags = (  # the signals do not matter to parsing (daily grid energy is not a totalizer: issue 19, item 4)
        TagMapping(source_tag="total_grid", signal="energy_total", source_unit="kWh", line_id="L1", asset_id="L1"),
        TagMapping(source_tag="avg_inflow", signal="motor_current", source_unit="A", line_id="L1", asset_id="L1-M1"),
    )
    p = load_demo_plant("plant_a", tags, timezone="Australia/Melbourne", historian={
        "dialect": "generic", "file_pattern": "Data-Melbourne_F.csv",
        "options": {"layout": "wide", "timestamp_column": ["year", "month", "day"], "timestamp_format": "%Y %m %d",
                    "ignore_columns": [c for c in quantities if c not in ("total_grid", "avg_inflow")]}})
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    result = parse_historian(p, [path], date(2014, 1, 2), duckdb.connect())
    assert_frames(result)
    # line 3 of the file: avg_inflow 2.961, total_grid 181624 on 2014-01-02 (AEDT, UTC+11: 01-01 13:00 UTC)
    assert sorted((r["tag"], r["ts_utc"], r["value"]) for r in result.accepted.to_pylist()) == [
        ("avg_inflow", datetime(2014, 1, 1, 13, 0), 2.961), ("total_grid", datetime(2014, 1, 1, 13, 0), 181624.0)]
    n = len(rows)
    assert n == 85 and len(quantities) == 17
    assert result.reason_counts() == {"ignored_column": 15 * n, "outside_partition_day": 2 * (n - 1)}


def test_ignition_column_names_configurable(tmp_path):
    (tmp_path / "tags.csv").write_text("TagId,Path\n7,L1.Energy\n", encoding="utf-8")
    text = "TagId,IntVal,FloatVal,Integrity,Stamp\n7,,12.5,192,1789000000000\n"
    p = load_demo_plant("plant_c", TAGS, historian={
        "dialect": "ignition_sqlt", "file_pattern": "h_{date:%Y%m%d}.csv",
        "options": {"tag_table": "tags.csv", "columns": {"tagid": "TagId", "intvalue": "IntVal", "floatvalue": "FloatVal",
                                                         "dataintegrity": "Integrity", "t_stamp": "Stamp",
                                                         "id": "TagId", "tagpath": "Path"}}})
    # 1789000000000 ms = 2026-09-10 00:26:40 UTC (1789000000 s: 20706 days + 1600 s after 1970-01-01), 05:56:40 IST
    result = parse(p, tmp_path, text, date(2026, 9, 10))
    assert readings(result) == [(datetime(2026, 9, 10, 0, 26, 40), 12.5)]
