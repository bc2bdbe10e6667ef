"""The configurable dialects (aveva_narrow, canary_tvq, generic) on small realistic exports: DST days in both
directions, quality mapping, interval-end stamps, decimal comma, BOM, a counter rollover, files still being
written."""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from pydantic import ValidationError

from plant_assets.core.plant_config import HistorianExport, PlantConfig, TagMapping
from plant_assets.ingest.exports import (
    DialectConfigError,
    files_for_day,
    parse_historian,
)
from tests.unit.test_dialects import assert_frames, load_demo_plant, quarantined, write


def tag_mapping(tag, signal, unit, line, asset, rollover=None):
    return TagMapping(source_tag=tag, signal=signal, source_unit=unit, line_id=line, asset_id=asset, rollover=rollover)


TAGS = (
    tag_mapping("L1.Energy", "energy_total", "kWh", "L1", "L1"),
    tag_mapping("L1.Count", "production_count_total", "count", "L1", "L1", rollover=10000),
    tag_mapping("L1.M1.Amps", "motor_current", "A", "L1", "L1-M1"),
)


def plant(plant_id: str, dialect: str, options: dict, tags=TAGS, **historian) -> PlantConfig:
    return load_demo_plant(
        plant_id, tags,
        historian={"dialect": dialect, "file_pattern": "h_{date:%Y%m%d}.csv", "options": options, **historian},
    )


def utc_of(tz: str, local: datetime, fold: int = 0) -> datetime:
    return local.replace(tzinfo=ZoneInfo(tz), fold=fold).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def rows(result):
    return {(r["tag"], r["ts_utc"]): r for r in result.accepted.to_pylist()}


# ---------------------------------------------------------------- AVEVA narrow (plant_b, America/Chicago)

NARROW_FALL = """DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality
2026-11-01 00:00:00.000,L1.Energy,1500.5,1500.5,0,192,192
2026-11-01 01:30:00.000,L1.Energy,1501.5,1501.5,0,192,192
2026-11-01 01:30:00.000,L1.Energy,1502.0,1502.0,0,192,192
2026-11-01 02:30:00.000,L1.Energy,1503.0,1503.0,16,192,64
2026-11-01 03:00:00.000,L1.Count,,,1,249,0
2026-11-01 03:01:00.000,L1.Count,,Comm Fail,1,249,0
2026-11-01 03:02:00.000,L1.Count,,,0,192,192
2026-11-01 03:03:00.000,L1.Count,abc,abc,0,192,192
2026-11-01 03:04:00.000,L1.Count,9990,9990,0,192,192
2026-11-01 03:05:00.000,L1.Count,12,12,0,192,192
2026-11-01 03:06:00.000,L9.Unknown,1,1,0,192,192
2026-11-01 03:07:00.000,L1.Count,15,15,4,192,192
"""


def test_aveva_narrow_fall_back_day(con, tmp_path):
    p = plant("plant_b", "aveva_narrow", {})
    path = write(tmp_path / "h_20261101.csv", NARROW_FALL)
    result = parse_historian(p, [path], date(2026, 11, 1), con)
    assert_frames(result)
    assert quarantined(result) == {8: "bad_value", 9: "bad_value", 12: "unknown_tag"}
    r = rows(result)
    tz = "America/Chicago"
    # the repeated 01:30 hour: first pass CDT (06:30 UTC), second pass CST (07:30 UTC)
    assert r[("L1.Energy", utc_of(tz, datetime(2026, 11, 1, 1, 30)))]["value"] == 1501.5
    assert r[("L1.Energy", utc_of(tz, datetime(2026, 11, 1, 1, 30), fold=1))]["value"] == 1502.0
    assert r[("L1.Energy", datetime(2026, 11, 1, 8, 30))]["quality"] == "uncertain"  # Quality 16
    bad = r[("L1.Count", datetime(2026, 11, 1, 9, 0))]
    assert (bad["value"], bad["quality"]) == (None, "bad")  # Quality 1, no value: kept as bad
    assert r[("L1.Count", datetime(2026, 11, 1, 9, 1))]["status_text"] == "Comm Fail"
    # rollover is kept raw here (9990 -> 12); dbt turns it into a delta of 22 with rollover 10000
    assert [r[("L1.Count", datetime(2026, 11, 1, 9, m))]["value"] for m in (4, 5)] == [9990, 12]
    assert r[("L1.Count", datetime(2026, 11, 1, 9, 7))]["quality"] == "uncertain"  # unmapped code


def test_aveva_narrow_spring_forward_and_opc_quality(con, tmp_path):
    p = plant("plant_b", "aveva_narrow", {"quality_column": "OPCQuality"})
    text = """DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality
2026-03-08 01:59:00.000,L1.M1.Amps,40.1,40.1,0,192,192
2026-03-08 02:30:00.000,L1.M1.Amps,40.2,40.2,0,192,192
2026-03-08 03:00:00.000,L1.M1.Amps,40.3,40.3,16,192,68
2026-03-08 03:01:00.000,L1.M1.Amps,40.4,40.4,1,192,24
"""
    result = parse_historian(p, [write(tmp_path / "h_20260308.csv", text)], date(2026, 3, 8), con)
    assert_frames(result)
    assert quarantined(result) == {3: "bad_timestamp"}
    assert "does not exist" in result.quarantine.column("reason_detail")[0].as_py()
    r = rows(result)
    assert r[("L1.M1.Amps", datetime(2026, 3, 8, 7, 59))]["quality"] == "good"  # CST
    assert r[("L1.M1.Amps", datetime(2026, 3, 8, 8, 0))]["quality"] == "uncertain"  # CDT, OPC 68
    assert r[("L1.M1.Amps", datetime(2026, 3, 8, 8, 1))]["quality"] == "bad"  # OPC 24


# ---------------------------------------------------------------- Canary TVQ (UTC ISO, OPC quality)

CANARY = """TagName,TimeStamp,Value,Quality
L1.M1.Amps,2026-09-07T05:00:13.1234567Z,41.7,192
L1.M1.Amps,2026-09-07T05:07:41.5Z,42.9,192
L1.Energy,2026-09-07T05:00:00Z,1500.25,192
L1.M1.Amps,2026-09-07T05:03:02Z,40.0,192
L1.Energy,2026-09-07T05:01:00Z,1500.75,64
L1.Energy,2026-09-07T05:02:00Z,1501.5,1073741824
L1.Energy,2026-09-07T05:03:00Z,0,2147483648
L1.Energy,2026-09-07T05:00:00Z,1500.25,192
L1.Energy,2026-09-08T05:00:00Z,1600,192
"""


def test_canary_tvq_irregular_out_of_order_and_redelivered(con, tmp_path):
    p = plant("plant_c", "canary_tvq", {})  # Asia/Kolkata: the day is [06 18:30, 07 18:30) UTC
    path = write(tmp_path / "h_20260907.csv", CANARY)
    redelivered = write(tmp_path / "h_20260907_redelivered.csv", CANARY)  # the same file delivered again
    result = parse_historian(p, [path, redelivered], date(2026, 9, 7), con)
    assert_frames(result)
    rec = {r["source_file"]: r for r in result.reconciliation.to_pylist()}
    assert rec[path.name]["accepted_records"] == 7 and rec[redelivered.name]["accepted_records"] == 0
    reasons = result.reason_counts()
    assert reasons == {"duplicate": 8 + 1, "outside_partition_day": 2}
    amps = [r for r in result.accepted.to_pylist() if r["tag"] == "L1.M1.Amps"]
    assert [a["ts_utc"] for a in amps] == sorted(a["ts_utc"] for a in amps)  # out-of-order rows sorted
    assert amps[0]["ts_utc"] == datetime(2026, 9, 7, 5, 0, 13, 123457)  # 100 ns ticks rounded to us
    q = {r["ts_utc"].minute: r["quality"] for r in result.accepted.to_pylist() if r["tag"] == "L1.Energy"}
    assert q == {0: "good", 1: "uncertain", 2: "uncertain", 3: "bad"}


# ---------------------------------------------------------------- generic: long, European CSV

GENERIC_LONG = "\ufeffExport Werk Nord;erstellt 08.09.2026\nMessstelle;Zeit;Wert;Status\n" + (
    "L1.Energy;07.09.2026 00:15;1.500,25;OK\n"
    "L1.Energy;07.09.2026 00:30;1.500,75;OK\n"
    "L1.Count;07.09.2026 00:15;9.990;OK\n"
    "L1.Count;07.09.2026 00:30;12;gestört\n"
    "L1.Energy;08.09.2026 00:00;1.510,00;OK\n"
    "L1.Energy;07.09.2026 00:00;1.499,00;OK\n"
    "L1.M1.Amps;07.09.2026 12:00;4,25;OK\n"
)


def test_generic_long_european_interval_end(con, tmp_path):
    options = {
        "delimiter": ";", "skip_lines": 1, "decimal_comma": True, "timestamp_format": "%d.%m.%Y %H:%M",
        "timestamp_marks": "end", "interval_seconds": 900, "value_scale": 1.0,
        "columns": {"tag": "Messstelle", "ts": "Zeit", "value": "Wert", "quality": "Status"},
        "quality_mode": "text", "quality_map": {"OK": "good", "gestört": "bad"},
    }
    p = plant("plant_a", "generic", options)
    path = tmp_path / "h_20260907.csv"
    path.write_bytes(GENERIC_LONG.replace("\n", "\r\n").encode("utf-8"))
    result = parse_historian(p, [path], date(2026, 9, 7), con)
    assert_frames(result)
    # the 00:00 row dated 07.09 closes the interval starting 06.09 23:45: the previous day
    assert quarantined(result) == {8: "outside_partition_day"}
    r = rows(result)
    berlin = "Europe/Berlin"
    assert r[("L1.Energy", utc_of(berlin, datetime(2026, 9, 7, 0, 0)))]["value"] == 1500.25
    # 08.09 00:00 interval end = 07.09 23:45 start: still this day
    assert r[("L1.Energy", utc_of(berlin, datetime(2026, 9, 7, 23, 45)))]["value"] == 1510.0
    assert r[("L1.Count", utc_of(berlin, datetime(2026, 9, 7, 0, 0)))]["value"] == 9990
    assert r[("L1.Count", utc_of(berlin, datetime(2026, 9, 7, 0, 15)))]["quality"] == "bad"
    assert r[("L1.M1.Amps", utc_of(berlin, datetime(2026, 9, 7, 11, 45)))]["value"] == 4.25


def test_generic_wide_units_row_cp1252_scaled(con, tmp_path):
    options = {"layout": "wide", "timestamp_column": "Time", "skip_after_header": 1, "encoding": "cp1252",
               "timestamp_format": "epoch_ms", "timestamps_in": "utc", "value_scale": 0.001}
    p = plant("plant_c", "generic", options)
    t0 = int(datetime(2026, 9, 7, 0, 0, tzinfo=timezone.utc).timestamp() * 1000)
    text = (f"Time,L1.Energy,L1.M1.Amps,Zähler\nms,Wh,mA,°\n{t0},1500000,41700,1\n{t0 + 60000},1500500,,2\n"
            f"{t0 + 120000},x,41800,3\n")
    path = tmp_path / "h_20260907.csv"
    path.write_bytes(text.encode("cp1252"))
    result = parse_historian(p, [path], date(2026, 9, 7), con)
    assert_frames(result)
    reasons = [(r["source_line"], r["reason_code"]) for r in result.quarantine.to_pylist()]
    assert reasons == [(3, "unknown_tag"), (4, "unknown_tag"), (5, "bad_value"), (5, "unknown_tag")]
    r = rows(result)
    assert r[("L1.Energy", datetime(2026, 9, 7, 0, 0))]["value"] == pytest.approx(1500.0)
    assert r[("L1.M1.Amps", datetime(2026, 9, 7, 0, 1))]["quality"] == "bad"  # empty cell: no data
    assert "Zähler" in result.quarantine.column("reason_detail")[0].as_py()


def test_generic_wide_spring_forward_berlin(con, tmp_path):
    p = plant("plant_a", "generic", {"layout": "wide", "timestamp_column": "ts"})
    text = "ts,L1.Energy\n2026-03-29 01:59:00,10\n2026-03-29 02:30:00,11\n2026-03-29 03:00:00,12\n"
    result = parse_historian(p, [write(tmp_path / "h_20260329.csv", text)], date(2026, 3, 29), con)
    assert_frames(result)
    assert quarantined(result) == {3: "bad_timestamp"}
    assert sorted(rows(result)) == [("L1.Energy", datetime(2026, 3, 29, 0, 59)), ("L1.Energy", datetime(2026, 3, 29, 1, 0))]


# ---------------------------------------------------------------- configuration errors

@pytest.mark.parametrize(
    "options, message",
    [
        ({"layout": "tall"}, "layout"),
        ({"delimiter": ",", "decimal_comma": True}, "decimal_comma"),
        ({"timestamp_marks": "end"}, "interval_seconds"),
        ({"timestamp_format": "%Y-%m-%d %z"}, "%z"),
        ({"encoding": "klingon"}, "encoding"),
        ({"columns": {"tag": "a", "ts": "b", "valu": "c"}}, "columns"),
        ({"quality_mode": "text", "quality_map": {"OK": "fine"}}, "quality_map"),
        ({"layout": "wide", "columns": {"tag": "a", "ts": "b", "value": "c"}}, "only apply"),
    ],
)
def test_generic_bad_options_raise_before_reading(con, tmp_path, options, message):
    with pytest.raises(DialectConfigError, match=message):
        parse_historian(plant("plant_a", "generic", options), [], date(2026, 9, 7), con)


def test_unknown_option_names_rejected_by_config():
    with pytest.raises(ValidationError, match="unknown generic option"):
        HistorianExport(dialect="generic", file_pattern="x_{date:%Y%m%d}.csv", options={"delimeter": ";"})
    with pytest.raises(ValidationError, match="completion_marker"):
        HistorianExport(dialect="generic", file_pattern="x.csv", completion_marker="../done")


def test_files_still_being_written_are_not_read(tmp_path):
    p = plant("plant_a", "generic", {}, stable_after_seconds=60, completion_marker="{name}.done")
    done = write(tmp_path / "h_20260907.csv", "tag,timestamp,value\n")
    (tmp_path / "h_20260907.csv.done").touch()
    old = time.time() - 3600
    os.utime(done, (old, old))
    assert files_for_day(p, tmp_path, date(2026, 9, 7), "historian") == [done]
    os.utime(done, None)  # just modified: still being written
    assert files_for_day(p, tmp_path, date(2026, 9, 7), "historian") == []
    os.utime(done, (old, old))
    (tmp_path / "h_20260907.csv.done").unlink()  # no completion marker yet
    assert files_for_day(p, tmp_path, date(2026, 9, 7), "historian") == []


def test_generic_parquet_long_and_corrupt_parquet(con, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = plant("plant_a", "generic", {"timestamps_in": "utc"})
    table = pa.table({
        "tag": ["L1.Energy", "L1.Energy", "L1.Mystery", "L1.M1.Amps"],
        "timestamp": pa.array([datetime(2026, 9, 7, 0, 0), datetime(2026, 9, 7, 0, 1, 30, 250000),
                               datetime(2026, 9, 7, 0, 2), datetime(2026, 9, 7, 0, 3)], pa.timestamp("us")),
        "value": [1500.5, 1501.0, 1.0, float("nan")],
    })
    good = tmp_path / "h_20260907.parquet"
    pq.write_table(table, good)
    bad = tmp_path / "h_20260907_b.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    result = parse_historian(p, [good, bad], date(2026, 9, 7), con)
    assert_frames(result)
    rec = {r["source_file"]: r for r in result.reconciliation.to_pylist()}
    assert (rec[good.name]["raw_records"], rec[good.name]["accepted_records"]) == (4, 2)
    assert rec[bad.name]["accepted_records"] == 0 and rec[bad.name]["raw_records"] >= 1
    reasons = {(r["source_file"], r["source_line"]): r["reason_code"] for r in result.quarantine.to_pylist()}
    assert reasons[(good.name, 4)] == "unknown_tag" and reasons[(good.name, 5)] == "bad_value"
    assert set(r for (f, _), r in reasons.items() if f == bad.name) == {"unreadable_file"}
    assert rows(result)[("L1.Energy", datetime(2026, 9, 7, 0, 1, 30, 250000))]["value"] == 1501.0


def test_interval_end_stamps_across_the_fall_back_hour(con, tmp_path):
    """15-minute interval-end stamps in local time on 2026-10-25 (Berlin): the stamp 02:00 occurs twice."""
    p = plant("plant_a", "generic", {"timestamp_marks": "end", "interval_seconds": 900})
    tz = "Europe/Berlin"
    start = datetime(2026, 10, 24, 22, 0)  # 00:00 local (CEST) in UTC
    lines = ["tag,timestamp,value"]
    for k in range(100):  # 25 h = 100 intervals
        end_utc = start.replace(tzinfo=timezone.utc) + (k + 1) * (datetime(2000, 1, 1, 0, 15) - datetime(2000, 1, 1))
        lines.append(f"L1.Energy,{end_utc.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S},{k}")
    result = parse_historian(p, [write(tmp_path / "h_20261025.csv", "\n".join(lines) + "\n")], date(2026, 10, 25), con)
    assert_frames(result)
    assert result.accepted.num_rows == 100 and result.quarantine.num_rows == 0
    got = [(r["ts_utc"], r["value"]) for r in result.accepted.to_pylist()]
    assert got == [(start + k * (datetime(2000, 1, 1, 0, 15) - datetime(2000, 1, 1)), k) for k in range(100)]
