"""Historian and event dialect parsers on small, realistic exports written into tmp_path."""

from __future__ import annotations

import codecs
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
import yaml

from plant_assets.core.plant_config import PlantConfig, TagMapping
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.exports import (
    ACCEPTED_SCHEMA,
    DOWNTIME_SCHEMA,
    QUARANTINE_SCHEMA,
    REASON_CODES,
    RECONCILIATION_SCHEMA,
    RUNS_SCHEMA,
    DialectConfigError,
    ParsedExport,
    files_for_day,
    parse_events,
    parse_historian,
    refused_for_day,
)
from plant_assets.ingest.parsing.local_day import LocalDay
from plant_assets.ingest.parsing.sql import bind

PLANTS = REPO_ROOT / "plants"
INJECTION_TAG = "RF_L1'); DROP TABLE readings; --"


def _tm(tag: str, signal: str, unit: str, line: str, asset: str, rollover: float | None = None) -> TagMapping:
    return TagMapping(source_tag=tag, signal=signal, source_unit=unit, line_id=line, asset_id=asset, rollover=rollover)


def load_demo_plant(plant_id: str, tag_map: tuple[TagMapping, ...], **updates) -> PlantConfig:
    raw = yaml.safe_load((PLANTS / plant_id / "plant.yaml").read_text(encoding="utf-8"))
    raw.update(updates)
    return PlantConfig(**raw, tag_map=tag_map)


@pytest.fixture
def plant_a() -> PlantConfig:
    return load_demo_plant(
        "plant_a",
        (
            _tm("RF_L1_ENERGY", "energy_total", "kWh", "L1", "L1"),
            _tm("RF_L1_COUNT", "production_count_total", "count", "L1", "L1"),
            _tm("RF_L1_M1_CURRENT", "motor_current", "A", "L1", "L1-M1"),
            _tm(INJECTION_TAG, "motor_current", "A", "L1", "L1-M2"),
        ),
    )


@pytest.fixture
def plant_b() -> PlantConfig:
    return load_demo_plant(
        "plant_b",
        (
            _tm("CF_L1_ENERGY", "energy_total", "MWh", "L1", "L1"),
            _tm("CF_L1_COUNT", "production_count_total", "count", "L1", "L1", rollover=10000),
            _tm("CF_L1_M1_VIB", "motor_vibration_velocity", "in/s", "L1", "L1-M1"),
            _tm('CF "L1", M1; TEMP', "motor_bearing_temperature", "degF", "L1", "L1-M1"),
        ),
    )


@pytest.fixture
def plant_c() -> PlantConfig:
    return load_demo_plant(
        "plant_c",
        (
            _tm("pune/l1/energy_total", "energy_total", "kWh", "L1", "L1"),
            _tm("pune/l1/count", "production_count_total", "count", "L1", "L1"),
            _tm("pune/l1/m1/current", "motor_current", "A", "L1", "L1-M1"),
        ),
    )


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def assert_frames(result: ParsedExport, accepted_schema: pa.Schema = ACCEPTED_SCHEMA) -> None:
    """Schemas are exact, every file reconciles and the counts match the frames."""
    assert result.accepted.schema.equals(accepted_schema)
    assert result.quarantine.schema.equals(QUARANTINE_SCHEMA)
    assert result.reconciliation.schema.equals(RECONCILIATION_SCHEMA)
    rec = result.reconciliation.to_pylist()
    assert result.unbalanced_files() == []
    for row in rec:
        assert row["raw_records"] == row["accepted_records"] + row["quarantined_records"]
    assert sum(r["accepted_records"] for r in rec) == result.accepted.num_rows
    assert sum(r["quarantined_records"] for r in rec) == result.quarantine.num_rows
    assert set(result.quarantine.column("reason_code").to_pylist()) <= set(REASON_CODES)
    assert all(result.quarantine.column("reason_detail").to_pylist())
    if "tag" in accepted_schema.names:  # readings are written in (tag, ts_utc) order, sorted or already so
        keys = list(zip(result.accepted.column("tag").to_pylist(), result.accepted.column("ts_utc").to_pylist()))
        assert keys == sorted(keys)


def quarantined(result: ParsedExport) -> dict[int, str]:
    """source_line -> reason_code (long files: one record per line)."""
    rows = result.quarantine.to_pylist()
    out = {r["source_line"]: r["reason_code"] for r in rows}
    assert len(out) == len(rows)
    return out


def utc(*args: int) -> datetime:
    return datetime(*args)


def local_to_utc(tz: str, local: datetime, fold: int = 0) -> datetime:
    return local.replace(tzinfo=ZoneInfo(tz), fold=fold).astimezone(timezone.utc).replace(tzinfo=None)


def no_temp_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_pa_%'").fetchall()[0][0] == 0


# ----------------------------------------------------------------------------------------------
# PI recorded values (plant_a, Europe/Berlin)

PI_DAY = """Tag,Timestamp,Value,Status
RF_L1_ENERGY,07-Sep-2026 00:00:00,1520.25,Good
RF_L1_ENERGY,07-Sep-2026 00:01:00,1520.75,Good
RF_L1_ENERGY,07-Sep-2026 00:02:00,I/O Timeout,Bad
RF_L1_ENERGY,07-Sep-2026 00:03:00,1521.5,Substituted
RF_L1_ENERGY,07-Sep-2026 00:03:00,1521.5,Substituted
RF_L1_COUNT,07-Sep-2026 00:00:00,88112,Good
RF_L1_COUNT,07-Sep-2026 00:01:00,88160,Questionable
"RF_L1_COUNT",07-Sep-2026 00:02:00,"88205",Good

RF_L1_COUNT,07-Sep-2026 00:03:00,Shutdown,Good
RF_L1_COUNT,07-Sep-2026 00:04:00,88300,Bad
RF_L1_M1_CURRENT,07-Sep-2026 00:00:13,41.7,Good
RF_L1_M1_CURRENT,07-Sep-2026 23:59:59,40.2,Good
RF_L1_M1_CURRENT,06-Sep-2026 23:59:59,40.1,Good
RF_L1_M1_CURRENT,08-Sep-2026 00:00:00,40.3,Good
RF_L2_ENERGY,07-Sep-2026 00:00:00,99.0,Good
RF_L1_M1_CURRENT,2026-09-07 10:00:00,41.0,Good
RF_L1_M1_CURRENT,07-Sep-2026 10:00:01,n/a,Good
RF_L1_M1_CURRENT,07-Sep-2026 10:00:02,NaN,Good
RF_L1_M1_CURRENT,07-Sep-2026 10:00:03,,Good
RF_L1_M1_CURRENT,07-Sep-2026 10:00:04,41.1
RF_L1_M1_CURRENT,07-Sep-2026 10:00:05,41.2,Good,extra
"RF_L1_M1_CURRENT,07-Sep-2026 10:00:06,41.3,Good
"RF_L1'); DROP TABLE readings; --",07-Sep-2026 11:00:00,12.5,Good
 RF_L1_M1_CURRENT , 07-Sep-2026 12:00:00 , 42.5 , Good
"""


def test_pi_recorded_day(plant_a, con, tmp_path):
    con.execute("CREATE TABLE readings AS SELECT 1 AS keep")
    con.execute("SET TimeZone = 'America/New_York'")  # the connection's zone must not matter
    path = write(tmp_path / "PI_RecordedValues_20260907.csv", PI_DAY, newline="\r\n")
    result = parse_historian(plant_a, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert quarantined(result) == {
        6: "duplicate",
        15: "outside_partition_day",
        16: "outside_partition_day",
        17: "unknown_tag",
        18: "bad_timestamp",
        19: "bad_value",
        20: "bad_value",
        21: "bad_value",
        22: "malformed_row",
        23: "malformed_row",
        24: "malformed_row",
    }
    rec = result.reconciliation.to_pylist()
    assert rec == [
        {"source_file": path.name, "raw_records": 24, "accepted_records": 13, "quarantined_records": 11}
    ]
    rows = {(r["tag"], r["ts_utc"]): r for r in result.accepted.to_pylist()}
    # CEST = UTC+2
    e0 = rows[("RF_L1_ENERGY", utc(2026, 9, 6, 22, 0))]
    assert (e0["value"], e0["quality"], e0["status_text"], e0["source_line"]) == (1520.25, "good", "Good", 2)
    state = rows[("RF_L1_ENERGY", utc(2026, 9, 6, 22, 2))]
    assert (state["value"], state["quality"], state["status_text"]) == (None, "bad", "I/O Timeout")
    assert rows[("RF_L1_ENERGY", utc(2026, 9, 6, 22, 3))]["quality"] == "uncertain"
    assert rows[("RF_L1_COUNT", utc(2026, 9, 6, 22, 1))]["quality"] == "uncertain"
    assert rows[("RF_L1_COUNT", utc(2026, 9, 6, 22, 2))]["value"] == 88205  # quoted fields
    shutdown = rows[("RF_L1_COUNT", utc(2026, 9, 6, 22, 3))]
    assert (shutdown["value"], shutdown["quality"], shutdown["status_text"], shutdown["source_line"]) == (
        None, "bad", "Shutdown", 11)  # fmt: skip
    bad = rows[("RF_L1_COUNT", utc(2026, 9, 6, 22, 4))]
    assert (bad["value"], bad["quality"], bad["status_text"]) == (None, "bad", "Bad")  # bad quality: no value
    assert rows[("RF_L1_M1_CURRENT", utc(2026, 9, 7, 21, 59, 59))]["value"] == 40.2
    assert rows[(INJECTION_TAG, utc(2026, 9, 7, 9, 0))]["value"] == 12.5
    assert rows[("RF_L1_M1_CURRENT", utc(2026, 9, 7, 10, 0))]["value"] == 42.5  # spaces around fields
    # Sorted by tag, ts_utc.
    keys = [(r["tag"], r["ts_utc"]) for r in result.accepted.to_pylist()]
    assert keys == sorted(keys)
    # Reasons name the problem.
    q = {r["source_line"]: r for r in result.quarantine.to_pylist()}
    assert q[6]["reason_detail"].endswith(f"already read from {path.name}:5; this copy is dropped")
    assert "RF_L2_ENERGY" in q[17]["reason_detail"]
    assert "2026-09-07 10:00:00" in q[18]["raw_record"] and "%d-%b-%Y" in q[18]["reason_detail"]
    assert "neither a number nor a known digital state" in q[19]["reason_detail"]
    assert "not a finite number" in q[20]["reason_detail"]
    assert "line has 3 fields, the header has 4" == q[22]["reason_detail"]
    assert "unbalanced quotes" in q[24]["reason_detail"]
    assert q[15]["raw_record"] == "RF_L1_M1_CURRENT,06-Sep-2026 23:59:59,40.1,Good"
    # The caller's connection is untouched.
    assert con.execute("SELECT keep FROM readings").fetchall() == [(1,)]
    assert no_temp_tables(con)


def test_pi_rerun_is_identical_and_multi_file_duplicates(plant_a, con, tmp_path):
    first = write(tmp_path / "PI_RecordedValues_20260907.csv", PI_DAY)
    again = write(tmp_path / "PI_RecordedValues_20260907_redelivered.csv", PI_DAY)
    one = parse_historian(plant_a, [again, first], date(2026, 9, 7), con)
    two = parse_historian(plant_a, [first, again], date(2026, 9, 7), con)
    assert one.accepted.equals(two.accepted)
    assert one.quarantine.equals(two.quarantine)
    assert one.reconciliation.equals(two.reconciliation)
    assert_frames(one)
    rec = {r["source_file"]: r for r in one.reconciliation.to_pylist()}
    # Every accepted record of the second file is a duplicate of the first file's.
    assert rec[first.name]["accepted_records"] == 13
    assert rec[again.name]["accepted_records"] == 0
    assert rec[again.name]["quarantined_records"] == 24
    assert one.reason_counts()["duplicate"] == 1 + 1 + 13  # in each file, and the second file's copies
    assert set(one.accepted.column("source_file").to_pylist()) == {first.name}


def test_pi_spring_forward_day(plant_a, con, tmp_path):
    # Europe/Berlin 2026-03-29: 02:00 CET -> 03:00 CEST; the day has 23 hours.
    path = write(
        tmp_path / "PI_RecordedValues_20260329.csv",
        """Tag,Timestamp,Value,Status
RF_L1_ENERGY,29-Mar-2026 00:00:00,10,Good
RF_L1_ENERGY,29-Mar-2026 01:59:00,11,Good
RF_L1_ENERGY,29-Mar-2026 02:00:00,12,Good
RF_L1_ENERGY,29-Mar-2026 02:30:00,13,Good
RF_L1_ENERGY,29-Mar-2026 03:00:00,14,Good
RF_L1_ENERGY,29-Mar-2026 23:59:00,15,Good
RF_L1_ENERGY,30-Mar-2026 00:00:00,16,Good
""",
    )
    result = parse_historian(plant_a, [path], date(2026, 3, 29), con)
    assert_frames(result)
    assert quarantined(result) == {4: "bad_timestamp", 5: "bad_timestamp", 8: "outside_partition_day"}
    assert "does not exist in Europe/Berlin" in result.quarantine.column("reason_detail")[0].as_py()
    got = dict(zip(result.accepted.column("value").to_pylist(), result.accepted.column("ts_utc").to_pylist()))
    assert got == {
        10: utc(2026, 3, 28, 23, 0),
        11: utc(2026, 3, 29, 0, 59),
        14: utc(2026, 3, 29, 1, 0),
        15: utc(2026, 3, 29, 21, 59),
    }


def test_pi_fall_back_day_keeps_both_passes_of_the_repeated_hour(plant_a, con, tmp_path):
    # Europe/Berlin 2026-10-25: 03:00 CEST -> 02:00 CET; 02:00-02:59 happens twice; the day has 25 hours.
    tz = "Europe/Berlin"
    start = local_to_utc(tz, datetime(2026, 10, 25))
    instants = [start + timedelta(minutes=20 * i) for i in range(25 * 3)]  # every 20 min for 25 h
    lines = ["Tag,Timestamp,Value,Status"]
    for i, t in enumerate(instants):
        local = t.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        lines.append(f"RF_L1_ENERGY,{local:%d-%b-%Y %H:%M:%S},{i},Good")
        if local.hour == 2 and local.minute == 20 and local.fold == 0:
            lines.append(lines[-1])  # a re-delivered row inside the first pass is still a duplicate
    # Exception-based tag with sparse points in both passes.
    for text in ("25-Oct-2026 02:10:00", "25-Oct-2026 02:40:00", "25-Oct-2026 02:05:00", "25-Oct-2026 02:50:00"):
        lines.append(f"RF_L1_M1_CURRENT,{text},40,Good")
    path = write(tmp_path / "PI_RecordedValues_20261025.csv", "\n".join(lines) + "\n")
    result = parse_historian(plant_a, [path], date(2026, 10, 25), con)
    assert_frames(result)
    assert result.reason_counts() == {"duplicate": 1}
    energy = result.accepted.filter(pa.compute.equal(result.accepted["tag"], "RF_L1_ENERGY"))
    assert energy.column("ts_utc").to_pylist() == instants
    assert energy.column("value").to_pylist() == list(range(75))
    current = result.accepted.filter(pa.compute.equal(result.accepted["tag"], "RF_L1_M1_CURRENT"))
    assert current.column("ts_utc").to_pylist() == [
        utc(2026, 10, 25, 0, 10),  # 02:10 CEST
        utc(2026, 10, 25, 0, 40),  # 02:40 CEST
        utc(2026, 10, 25, 1, 5),  # 02:05 CET
        utc(2026, 10, 25, 1, 50),  # 02:50 CET
    ]


def test_pi_utc_timestamps_and_custom_options(plant_a, con, tmp_path):
    historian = plant_a.historian.model_copy(
        update={
            "options": {
                "timestamp_format": ["%Y-%m-%dT%H:%M:%S.%gZ", "%Y-%m-%dT%H:%M:%SZ"],
                "timestamps_in": "utc",
                "delimiter": "|",
                "digital_states": ["Calibrating"],
                "status_quality": {"OK": "good", "Subst": "uncertain", "Failed": "bad"},
            }
        }
    )
    plant = plant_a.model_copy(update={"historian": historian})
    path = write(
        tmp_path / "pi.csv",
        """Tag|Timestamp|Value|Status
RF_L1_ENERGY|2026-09-06T22:00:00Z|1|OK
RF_L1_ENERGY|2026-09-06T21:59:59.999Z|2|OK
RF_L1_ENERGY|2026-09-07T12:00:00.250Z|3|Subst
RF_L1_ENERGY|2026-09-07T12:00:01Z|Calibrating|OK
RF_L1_ENERGY|2026-09-07T12:00:02Z|I/O Timeout|OK
RF_L1_ENERGY|2026-09-07T12:00:03Z|4|Annotated
RF_L1_ENERGY|2026-09-07T21:59:59Z|5|Failed
RF_L1_ENERGY|2026-09-07T22:00:00Z|6|OK
""",
    )
    result = parse_historian(plant, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert quarantined(result) == {3: "outside_partition_day", 6: "bad_value", 9: "outside_partition_day"}
    got = [(r["ts_utc"], r["value"], r["quality"], r["status_text"]) for r in result.accepted.to_pylist()]
    assert got == [
        (utc(2026, 9, 6, 22, 0), 1.0, "good", "OK"),
        (datetime(2026, 9, 7, 12, 0, 0, 250000), 3.0, "uncertain", "Subst"),
        (utc(2026, 9, 7, 12, 0, 1), None, "bad", "Calibrating"),
        (utc(2026, 9, 7, 12, 0, 3), 4.0, "uncertain", "Annotated"),  # unknown status -> uncertain
        (utc(2026, 9, 7, 21, 59, 59), None, "bad", "Failed"),
    ]


@pytest.mark.parametrize("settings", [{}, {"threads": 1}, {"preserve_insertion_order": False, "threads": 4}])
def test_pi_line_numbers_on_a_larger_file(plant_a, con, tmp_path, settings):
    # Enough lines for DuckDB to read in parallel; every line's number is encoded in its value.
    for key, value in settings.items():
        con.execute(f"SET {key} = {value}")
    lines = ["Tag,Timestamp,Value,Status"]
    base = datetime(2026, 9, 7)
    for n in range(2, 60_002):
        if n % 9973 == 0:
            lines.append("")
            continue
        ts = base + timedelta(seconds=n)
        lines.append(f"RF_L1_M1_CURRENT,{ts:%d-%b-%Y %H:%M:%S},{n},Good")
    path = write(tmp_path / "PI_RecordedValues_20260907.csv", "\n".join(lines) + "\n")
    result = parse_historian(plant_a, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert result.quarantine.num_rows == 0
    values = result.accepted.column("value").to_pylist()
    assert result.accepted.column("source_line").to_pylist() == [int(v) for v in values]
    assert result.reconciliation.column("raw_records").to_pylist() == [60_000 - 6]
    # the parser keeps insertion order for its own work and gives the connection back as it was
    keeps_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    assert keeps_order == settings.get("preserve_insertion_order", True)


def test_pi_order_of_the_file_and_size_of_the_tag_map_do_not_change_the_result(plant_a, con, tmp_path):
    # A sorted export takes the cheap uniqueness proof, a shuffled one the full dedup; a tag map of more
    # than 128 tags is joined instead of searched as a list. All give the same readings.
    rows = [f"RF_L1_ENERGY,07-Sep-2026 {h:02d}:{m:02d}:00,{h * 60 + m},Good" for h in range(24) for m in range(0, 60, 7)]
    rows += [f"RF_L1_COUNT,07-Sep-2026 {h:02d}:30:00,{h},Good" for h in range(24)]
    header = "Tag,Timestamp,Value,Status\n"
    ordered = write(tmp_path / "ordered.csv", header + "\n".join(rows) + "\n")
    shuffled_rows = rows[1::2] + rows[0::2]
    shuffled = write(tmp_path / "shuffled.csv", header + "\n".join(shuffled_rows) + "\n")
    # tags in tag-name order, time ascending: written as read, without the sort
    in_key_order = write(tmp_path / "in_key_order.csv", header + "\n".join(rows[24 * 9:] + rows[:24 * 9]) + "\n")
    big_map = plant_a.model_copy(
        update={"tag_map": plant_a.tag_map + tuple(_tm(f"RF_SPARE_{i:03d}", "motor_current", "A", "L2", "L2")
                                                   for i in range(200))}
    )
    results = [
        parse_historian(plant, [path], date(2026, 9, 7), con)
        for plant in (plant_a, big_map)
        for path in (ordered, shuffled, in_key_order)
    ]
    con.execute("SET preserve_insertion_order = false")
    results += [parse_historian(plant_a, [path], date(2026, 9, 7), con) for path in (shuffled, in_key_order)]
    for result in results:
        assert_frames(result)
        assert result.quarantine.num_rows == 0
    first = results[0].accepted.drop_columns(["source_file", "source_line"])
    keys = list(zip(first.column("tag").to_pylist(), first.column("ts_utc").to_pylist()))
    assert keys == sorted(keys) and len(set(keys)) == len(keys) == 24 * 9 + 24
    for result in results[1:]:
        assert result.accepted.drop_columns(["source_file", "source_line"]).equals(first)
    # Duplicates are found on both paths.
    dup = write(tmp_path / "dup.csv", header + "\n".join(rows + rows[:3]) + "\n")
    for plant in (plant_a, big_map):
        assert parse_historian(plant, [dup], date(2026, 9, 7), con).reason_counts() == {"duplicate": 3}


# ----------------------------------------------------------------------------------------------
# Files that cannot be read


@pytest.mark.parametrize(
    ("content", "expected_detail", "expected_records"),
    [
        (bytes(range(256)) * 40, "binary data", None),
        (b"", "file is empty (0 bytes)", 1),
        (b"\n\n  \n", "no header line", 1),
        (b"Tag;Timestamp;Value;Status\nRF_L1_ENERGY;07-Sep-2026 00:00:00;1;Good\n", "seems to use ';'", 2),
        (b"<html><body>502 Bad Gateway</body></html>\n", "lacks column(s)", 1),
        (b"PK\x03\x04 zip archive", "lacks column(s)", 1),
    ],
    ids=["binary", "empty", "blank", "wrong-delimiter", "html", "zip-header"],
)
def test_unreadable_files_are_quarantined_whole(plant_a, con, tmp_path, content, expected_detail, expected_records):
    bad = tmp_path / "PI_RecordedValues_20260907.csv"
    bad.write_bytes(content)
    good = write(tmp_path / "PI_RecordedValues_20260907_b.csv", PI_DAY)
    result = parse_historian(plant_a, [bad, good], date(2026, 9, 7), con)
    assert_frames(result)
    rec = {r["source_file"]: r for r in result.reconciliation.to_pylist()}
    assert rec[good.name]["accepted_records"] == 13  # one bad file does not stop the others
    assert rec[bad.name]["accepted_records"] == 0
    q = [r for r in result.quarantine.to_pylist() if r["source_file"] == bad.name]
    assert q and {r["reason_code"] for r in q} == {"unreadable_file"}
    assert all(expected_detail in r["reason_detail"] and bad.name in r["reason_detail"] for r in q)
    if expected_records is not None:
        assert rec[bad.name]["raw_records"] == expected_records
    assert no_temp_tables(con)


def test_missing_file_and_header_only_file(plant_a, con, tmp_path):
    header_only = write(tmp_path / "header_only.csv", "Tag,Timestamp,Value,Status\n")
    missing = tmp_path / "missing.csv"
    result = parse_historian(plant_a, [header_only, missing], date(2026, 9, 7), con)
    assert_frames(result)
    rec = {r["source_file"]: r for r in result.reconciliation.to_pylist()}
    assert rec["header_only.csv"] == {
        "source_file": "header_only.csv", "raw_records": 0, "accepted_records": 0, "quarantined_records": 0}  # fmt: skip
    assert rec["missing.csv"]["quarantined_records"] == 1
    assert result.quarantine.to_pylist()[0]["reason_detail"] == "missing.csv: file not found"


def test_encodings_utf16_and_cp1252(plant_a, con, tmp_path):
    text = PI_DAY.replace("RF_L2_ENERGY", "RF_L2_ENERGIE_\u00dcBERWACHUNG")
    utf16 = tmp_path / "PI_utf16.csv"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    cp1252 = write(tmp_path / "PI_cp1252.csv", text, encoding="cp1252")
    for path in (utf16, cp1252):
        result = parse_historian(plant_a, [path], date(2026, 9, 7), con)
        assert_frames(result)
        assert result.accepted.num_rows == 13
        detail = [r["reason_detail"] for r in result.quarantine.to_pylist() if r["source_line"] == 17]
        assert detail == ["tag 'RF_L2_ENERGIE_\u00dcBERWACHUNG' is not in the tag map of plant_a"]


def test_file_names_with_quotes_and_glob_characters(plant_a, con, tmp_path):
    names = ["PI_Recorded'Values\"_20260907.csv", "PI [x]*?_20260907.csv", "PI_20260907.csv'); DROP TABLE t; --"]
    for name in names:
        path = write(tmp_path / name, PI_DAY)
        result = parse_historian(plant_a, [path], date(2026, 9, 7), con)
        assert_frames(result)
        assert result.accepted.num_rows == 13
        assert set(result.accepted.column("source_file").to_pylist()) == {name}
    assert no_temp_tables(con)


# ----------------------------------------------------------------------------------------------
# AVEVA WideHistory (plant_b, America/Chicago)

WIDE_DAY = """DateTime,CF_L1_ENERGY,CF_L1_COUNT,CF_L1_M1_VIB,"CF ""L1"", M1; TEMP",CF_L9_UNMAPPED
2026-09-08 00:00:00.000,812.5,9998,0.12,151.2,1
2026-09-08 00:01:00.000,812.6,9999,,151.4,1
2026-09-08 00:02:00.000,812.7,3,0.13,,
2026-09-08 00:02:00.000,812.7,3,0.13,,
2026-09-08 00:03:00.000,812.8,abc,inf,151.9,1
2026-09-08 25:03:00.000,812.9,5,0.13,152.0,1
2026-09-07 23:59:00.000,812.4,9997,0.12,151.0,1
2026-09-09 00:00:00.000,813.9,700,0.11,150.0,1
2026-09-08 23:59:00.000,813.8,699,0.11,150.1,1
2026-09-08 00:04:00.000,812.9,6,0.13

"""


def test_aveva_wide_day(plant_b, con, tmp_path):
    path = write(tmp_path / "WideHistory_2026-09-08.csv", WIDE_DAY)
    result = parse_historian(plant_b, [path], date(2026, 9, 8), con)
    assert_frames(result)
    # 10 data lines x 5 tag columns; the blank line is no record.
    assert result.reconciliation.to_pylist() == [
        {"source_file": path.name, "raw_records": 50, "accepted_records": 18, "quarantined_records": 32}
    ]
    assert result.reason_counts() == {
        "bad_timestamp": 4,
        "bad_value": 2,
        "duplicate": 4,
        "malformed_row": 5,
        "outside_partition_day": 8,
        "unknown_tag": 9,  # the unmapped column's cell on every well-formed line
    }
    rows = {(r["tag"], r["ts_utc"]): r for r in result.accepted.to_pylist()}
    # CDT = UTC-5
    t0 = utc(2026, 9, 8, 5, 0)
    assert rows[("CF_L1_ENERGY", t0)]["value"] == 812.5
    assert rows[('CF "L1", M1; TEMP', t0)]["value"] == 151.2
    empty = rows[("CF_L1_M1_VIB", utc(2026, 9, 8, 5, 1))]
    assert (empty["value"], empty["quality"], empty["status_text"], empty["source_line"]) == (None, "bad", "No Data", 3)
    assert rows[("CF_L1_COUNT", utc(2026, 9, 8, 5, 2))]["value"] == 3
    assert rows[("CF_L1_ENERGY", utc(2026, 9, 9, 4, 59))]["value"] == 813.8
    assert rows[("CF_L1_ENERGY", utc(2026, 9, 8, 5, 3))]["quality"] == "good"
    q = result.quarantine.to_pylist()
    bad_values = [r for r in q if r["reason_code"] == "bad_value"]
    assert [r["raw_record"] for r in bad_values] == [
        "DateTime=2026-09-08 00:03:00.000; CF_L1_COUNT=abc",
        "DateTime=2026-09-08 00:03:00.000; CF_L1_M1_VIB=inf",
    ]
    unknown = [r for r in q if r["reason_code"] == "unknown_tag"]
    assert {r["source_line"] for r in unknown} == set(range(2, 11))
    assert "CF_L9_UNMAPPED" in unknown[0]["reason_detail"]
    malformed = [r for r in q if r["reason_code"] == "malformed_row"]
    assert {r["source_line"] for r in malformed} == {11}
    assert "line has 4 fields, the header has 6" in malformed[0]["reason_detail"]
    # Quarantine is ordered by line, then column.
    order = [(r["source_line"]) for r in q]
    assert order == sorted(order)


def test_aveva_spring_forward_day(plant_b, con, tmp_path):
    # America/Chicago 2026-03-08: 02:00 CST -> 03:00 CDT.
    path = write(
        tmp_path / "WideHistory_2026-03-08.csv",
        """DateTime,CF_L1_ENERGY,CF_L1_COUNT
2026-03-08 00:00:00.000,1,1
2026-03-08 01:59:00.000,2,2
2026-03-08 02:00:00.000,3,3
2026-03-08 02:59:00.000,4,4
2026-03-08 03:00:00.000,5,5
2026-03-08 23:59:00.000,6,6
""",
    )
    result = parse_historian(plant_b, [path], date(2026, 3, 8), con)
    assert_frames(result)
    assert result.reason_counts() == {"bad_timestamp": 4}
    energy = result.accepted.filter(pa.compute.equal(result.accepted["tag"], "CF_L1_ENERGY"))
    assert energy.column("ts_utc").to_pylist() == [
        utc(2026, 3, 8, 6, 0),
        utc(2026, 3, 8, 7, 59),
        utc(2026, 3, 8, 8, 0),
        utc(2026, 3, 9, 4, 59),
    ]


def test_aveva_fall_back_day(plant_b, con, tmp_path):
    # America/Chicago 2026-11-01: 02:00 CDT -> 01:00 CST; 01:00-01:59 happens twice; 25 rows an hour apart.
    tz = "America/Chicago"
    start = local_to_utc(tz, datetime(2026, 11, 1))
    instants = [start + timedelta(hours=h) for h in range(25)]
    lines = ["DateTime,CF_L1_ENERGY,CF_L1_COUNT"]
    for i, t in enumerate(instants):
        local = t.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        lines.append(f"{local:%Y-%m-%d %H:%M:%S}.000,{i},{i}")
    path = write(tmp_path / "WideHistory_2026-11-01.csv", "\n".join(lines) + "\n")
    result = parse_historian(plant_b, [path], date(2026, 11, 1), con)
    assert_frames(result)
    assert result.quarantine.num_rows == 0
    energy = result.accepted.filter(pa.compute.equal(result.accepted["tag"], "CF_L1_ENERGY"))
    assert energy.column("ts_utc").to_pylist() == instants
    assert energy.column("value").to_pylist() == list(range(25))


def test_aveva_repeated_tag_column_and_overlapping_files(plant_b, con, tmp_path):
    repeated = write(
        tmp_path / "WideHistory_2026-09-08.csv",
        "DateTime,CF_L1_ENERGY,CF_L1_COUNT,CF_L1_ENERGY\n"
        "2026-09-08 00:00:00.000,1,2,1\n2026-09-08 00:01:00.000,3,4,5\n",
    )
    result = parse_historian(plant_b, [repeated], date(2026, 9, 8), con)
    assert_frames(result)
    assert result.reason_counts() == {"duplicate": 2}
    assert result.accepted.num_rows == 4
    # A second file repeating a minute of the first: its cells are duplicates.
    overlap = write(
        tmp_path / "WideHistory_2026-09-08_b.csv",
        "DateTime,CF_L1_COUNT,CF_L1_ENERGY\n2026-09-08 00:01:00.000,4,3\n2026-09-08 00:02:00.000,6,5\n",
    )
    single = write(tmp_path / "WideHistory_2026-09-08_a.csv", "DateTime,CF_L1_ENERGY,CF_L1_COUNT\n"
                   "2026-09-08 00:00:00.000,1,2\n2026-09-08 00:01:00.000,3,4\n")
    result = parse_historian(plant_b, [single, overlap], date(2026, 9, 8), con)
    assert_frames(result)
    assert result.reason_counts() == {"duplicate": 2}
    assert [r["source_line"] for r in result.quarantine.to_pylist()] == [2, 2]
    assert result.quarantine.column("source_file").to_pylist() == [overlap.name] * 2


def test_aveva_trailing_delimiter_and_garbage(plant_b, con, tmp_path):
    trailing = write(
        tmp_path / "WideHistory_2026-09-08.csv",
        "DateTime,CF_L1_ENERGY,CF_L1_COUNT,\n2026-09-08 00:00:00.000,1,2,\n",
    )
    garbage = tmp_path / "WideHistory_2026-09-08_b.csv"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)))
    result = parse_historian(plant_b, [trailing, garbage], date(2026, 9, 8), con)
    assert_frames(result)
    rec = {r["source_file"]: r for r in result.reconciliation.to_pylist()}
    assert rec[trailing.name] == {
        "source_file": trailing.name, "raw_records": 2, "accepted_records": 2, "quarantined_records": 0}  # fmt: skip
    assert rec[garbage.name]["accepted_records"] == 0
    assert {r["reason_code"] for r in result.quarantine.to_pylist()} == {"unreadable_file"}


# ----------------------------------------------------------------------------------------------
# Ignition sqlt (plant_c, Asia/Kolkata, epoch ms UTC)

SQLTH_TE = """id,tagpath,scid,datatype,querymode,created,retired
1,pune/l1/energy_total,1,1,0,1767225600000,
2,pune/l1/count,1,0,0,1767225600000,
3,pune/l1/m1/current,1,1,0,1767225600000,
4,pune/l1/m1/unmapped,1,1,0,1767225600000,
5,pune/l1/m1/current,1,1,0,1735689600000,1767225600000
"""


def ms(dt: datetime) -> int:
    return int(dt.replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_ignition_day(plant_c, con, tmp_path):
    write(tmp_path / "sqlth_te.csv", SQLTH_TE)
    day_start = utc(2026, 9, 6, 18, 30)  # 2026-09-07 00:00 IST
    day_end = utc(2026, 9, 7, 18, 30)
    rows = [
        f"1,,1520.25,,,192,{ms(day_start)}",
        f"2,88112,,,,192,{ms(day_start)}",
        f"3,,41.7,,,192,{ms(day_start + timedelta(seconds=13, milliseconds=250))}",
        f"3,,41.9,,,0,{ms(day_start + timedelta(seconds=14))}",
        f"5,,40.0,,,192,{ms(day_start + timedelta(seconds=15))}",
        f"2,88112,,,,192,{ms(day_start)}",
        f"4,,1.0,,,192,{ms(day_start)}",
        f"99,,1.0,,,192,{ms(day_start)}",
        f"1,,1520.5,,,192,{ms(day_start - timedelta(milliseconds=1))}",
        f"1,,1521.5,,,192,{ms(day_end)}",
        f"1,,1521.4,,,192,{ms(day_end - timedelta(milliseconds=1))}",
        "1,,1521.0,,,192,not-a-time",
        f"1,,NaN,,,192,{ms(day_start + timedelta(minutes=1))}",
        f"1,,,,,192,{ms(day_start + timedelta(minutes=2))}",
        f"1,,,,,8,{ms(day_start + timedelta(minutes=3))}",
        f"2,12x,,,,192,{ms(day_start + timedelta(minutes=4))}",
        f"x,,1.0,,,192,{ms(day_start)}",
        f"1,,1.0,,,192",
    ]
    path = write(tmp_path / "sqlt_data_1_2026_09_07.csv",
                 "tagid,intvalue,floatvalue,stringvalue,datevalue,dataintegrity,t_stamp\n" + "\n".join(rows) + "\n")
    result = parse_historian(plant_c, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert quarantined(result) == {
        7: "duplicate",
        8: "unknown_tag",
        9: "unknown_tag",
        10: "outside_partition_day",
        11: "outside_partition_day",
        13: "bad_timestamp",
        14: "bad_value",
        15: "bad_value",
        17: "bad_value",
        18: "unknown_tag",
        19: "malformed_row",
    }
    got = {(r["tag"], r["ts_utc"]): r for r in result.accepted.to_pylist()}
    assert got[("pune/l1/energy_total", day_start)]["value"] == 1520.25
    assert got[("pune/l1/count", day_start)]["value"] == 88112
    cur = got[("pune/l1/m1/current", day_start + timedelta(seconds=13, milliseconds=250))]
    assert (cur["value"], cur["quality"], cur["status_text"]) == (41.7, "good", "192")
    bad = got[("pune/l1/m1/current", day_start + timedelta(seconds=14))]
    assert (bad["value"], bad["quality"], bad["status_text"]) == (None, "bad", "0")
    assert got[("pune/l1/m1/current", day_start + timedelta(seconds=15))]["value"] == 40.0  # retired id, same path
    assert got[("pune/l1/energy_total", day_end - timedelta(milliseconds=1))]["value"] == 1521.4
    no_value = got[("pune/l1/energy_total", day_start + timedelta(minutes=3))]
    assert (no_value["value"], no_value["quality"]) == (None, "bad")
    q = {r["source_line"]: r["reason_detail"] for r in result.quarantine.to_pylist()}
    assert "pune/l1/m1/unmapped" in q[8]
    assert "tagid 99 is not in the tag table sqlth_te.csv" == q[9]
    assert "Asia/Kolkata" in q[10]


def test_ignition_missing_tag_table_and_quality_options(plant_c, con, tmp_path):
    data = "tagid,intvalue,floatvalue,stringvalue,datevalue,dataintegrity,t_stamp\n"
    data += f"3,,41.7,,,192,{ms(utc(2026, 9, 7, 6, 0))}\n3,,41.8,,,64,{ms(utc(2026, 9, 7, 6, 1))}\n"
    path = write(tmp_path / "sqlt_data_1_2026_09_07.csv", data)
    result = parse_historian(plant_c, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert result.reason_counts() == {"unknown_tag": 2}
    assert "sqlth_te.csv: file not found" in result.quarantine.column("reason_detail")[0].as_py()

    write(tmp_path / "tags.csv", SQLTH_TE)
    historian = plant_c.historian.model_copy(
        update={"options": {"tag_table": "tags.csv", "dataintegrity_quality": {192: "good", "64": "uncertain"}}}
    )
    plant = plant_c.model_copy(update={"historian": historian})
    result = parse_historian(plant, [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert result.accepted.column("quality").to_pylist() == ["good", "uncertain"]
    assert result.accepted.column("value").to_pylist() == [41.7, 41.8]


# ----------------------------------------------------------------------------------------------
# Events


def test_production_runs_plant_a(plant_a, con, tmp_path):
    path = write(
        tmp_path / "Auftraege_20260907.csv",
        """AUFNR;LINIE;MATERIAL;START;ENDE;GUTMENGE;AUSSCHUSS
4711;L1;PET-050;07.09.2026 06:00:00;07.09.2026 09:30:00;24850;150
4712;L2;PET-150;07.09.2026 22:00:00;08.09.2026 02:00:00;15000;80
4713;L3;PET-050;07.09.2026 14:00:00;;9000;0
4711;L1;PET-050;07.09.2026 06:00:00;07.09.2026 09:30:00;24850;150
4714;L1;PET-050;06.09.2026 22:00:00;07.09.2026 02:00:00;100;1
4715;L1;PET-999;07.09.2026 10:00:00;07.09.2026 11:00:00;100;1
4716;L1;PET-050;07.09.2026 10:00:00;07.09.2026 09:00:00;100;1
4717;L1;PET-050;07.09.2026 10:00:00;07.09.2026 11:00:00;-5;1
4718;L9;PET-050;07.09.2026 10:00:00;07.09.2026 11:00:00;100;1
4719;L1;PET-050;2026-09-07 10:00;07.09.2026 11:00:00;100;1
;L1;PET-050;07.09.2026 10:00:00;07.09.2026 11:00:00;100;1
"4720;x";L1;PET-050;07.09.2026 12:00:00;07.09.2026 13:00:00;"1000";0
""",
    )
    result = parse_events(plant_a, "production_runs", [path], date(2026, 9, 7), con)
    assert_frames(result, RUNS_SCHEMA)
    assert quarantined(result) == {
        5: "duplicate",
        6: "outside_partition_day",
        7: "bad_value",
        8: "bad_timestamp",
        9: "bad_value",
        10: "bad_value",
        11: "bad_timestamp",
        12: "bad_value",
    }
    rows = result.accepted.to_pylist()
    assert [(r["order_id"], r["line_id"], r["start_utc"], r["end_utc"], r["good_qty"], r["scrap_qty"]) for r in rows] == [
        ("4711", "L1", utc(2026, 9, 7, 4), utc(2026, 9, 7, 7, 30), 24850.0, 150.0),
        ("4720;x", "L1", utc(2026, 9, 7, 10), utc(2026, 9, 7, 11), 1000.0, 0.0),
        ("4712", "L2", utc(2026, 9, 7, 20), utc(2026, 9, 8, 0), 15000.0, 80.0),
        ("4713", "L3", utc(2026, 9, 7, 12), None, 9000.0, 0.0),
    ]
    assert rows[0]["product_code"] == "PET-050" and rows[0]["source_line"] == 2
    q = {r["source_line"]: r["reason_detail"] for r in result.quarantine.to_pylist()}
    assert "PET-999" in q[7] and "end 2026-09-07 07:00:00 is before start" in q[8]
    assert "L9" in q[10] and "START" in q[11] and "AUFNR" in q[12]


def test_downtime_plant_a_cp1252_and_categories(plant_a, con, tmp_path):
    path = write(
        tmp_path / "Stillstaende_20260907.csv",
        """LINIE;BEGINN;ENDE;GRUND;KATEGORIE
L1;07.09.2026 08:00:00;07.09.2026 08:25:00;Formatwechsel;geplant
L1;07.09.2026 11:10:00;07.09.2026 11:18:00;"St\u00f6rung; F\u00fcller";ungeplant
L2;07.09.2026 13:00:00;07.09.2026 13:05:00;Reinigung;Planned
L2;07.09.2026 14:00:00;07.09.2026 14:05:00;;sonstiges
L3;07.09.2026 15:00:00;;Materialmangel;UNGEPLANT
""",
        encoding="cp1252",
    )
    result = parse_events(plant_a, "downtime_events", [path], date(2026, 9, 7), con)
    assert_frames(result, DOWNTIME_SCHEMA)
    assert quarantined(result) == {5: "bad_value"}
    assert "sonstiges" in result.quarantine.column("reason_detail")[0].as_py()
    rows = result.accepted.to_pylist()
    assert [(r["line_id"], r["start_utc"], r["reason"], r["category"]) for r in rows] == [
        ("L1", utc(2026, 9, 7, 6), "Formatwechsel", "planned"),
        ("L1", utc(2026, 9, 7, 9, 10), "St\u00f6rung; F\u00fcller", "unplanned"),
        ("L2", utc(2026, 9, 7, 11), "Reinigung", "planned"),
        ("L3", utc(2026, 9, 7, 13), "Materialmangel", "unplanned"),
    ]


def test_events_utc_plant_c(plant_c, con, tmp_path):
    runs = write(
        tmp_path / "runs_20260907.csv",
        """run_id,line,product,start_utc,end_utc,good,scrap
R-1,L1,GLS-330,2026-09-06T18:30:00Z,2026-09-06T22:00:00Z,18000,120
R-2,L2,GLS-1000,2026-09-06T18:29:59Z,2026-09-06T22:00:00Z,100,1
R-3,L2,GLS-1000,2026-09-07T18:29:59Z,2026-09-07T20:00:00Z,100,1.5
""",
    )
    result = parse_events(plant_c, "production_runs", [runs], date(2026, 9, 7), con)
    assert_frames(result, RUNS_SCHEMA)
    assert quarantined(result) == {3: "outside_partition_day"}
    assert result.accepted.column("order_id").to_pylist() == ["R-1", "R-3"]
    stops = write(
        tmp_path / "stops_20260907.csv",
        "line,start_utc,end_utc,reason,category\nL1,2026-09-07T03:00:00Z,2026-09-07T03:20:00Z,Jam,BREAKDOWN\n",
    )
    result = parse_events(plant_c, "downtime_events", [stops], date(2026, 9, 7), con)
    assert_frames(result, DOWNTIME_SCHEMA)
    assert result.accepted.to_pylist()[0]["category"] == "unplanned"


def test_downtime_fall_back_day_plant_b(plant_b, con, tmp_path):
    # America/Chicago 2026-11-01, 01:00-01:59 twice: file order says which pass a start is in.
    path = write(
        tmp_path / "downtime_2026-11-01.csv",
        """Line,Start,End,Reason,Type
L1,11/01/2026 00:50,11/01/2026 01:10,Jam,Unplanned
L1,11/01/2026 01:40,11/01/2026 01:05,Changeover,Planned
L1,11/01/2026 01:20,11/01/2026 01:30,Jam,Unplanned
L1,11/01/2026 02:10,11/01/2026 02:20,Jam,Unplanned
L1,11/01/2026 02:10,11/01/2026 02:20,Jam,Unplanned
""",
    )
    result = parse_events(plant_b, "downtime_events", [path], date(2026, 11, 1), con)
    assert_frames(result, DOWNTIME_SCHEMA)
    assert quarantined(result) == {6: "duplicate"}
    got = [(r["start_utc"], r["end_utc"]) for r in result.accepted.to_pylist()]
    assert got == [
        (utc(2026, 11, 1, 5, 50), utc(2026, 11, 1, 6, 10)),  # CDT
        (utc(2026, 11, 1, 6, 40), utc(2026, 11, 1, 7, 5)),  # first pass start; end only fits the second pass
        (utc(2026, 11, 1, 7, 20), utc(2026, 11, 1, 7, 30)),  # second pass (CST)
        (utc(2026, 11, 1, 8, 10), utc(2026, 11, 1, 8, 20)),
    ]


def test_event_ends_after_a_change_of_time_the_start_day_does_not_have(plant_a, plant_b, con, tmp_path):
    """An order or stop that starts the evening before the clocks change ends at its own local time's offset,
    not the start day's (it once ended 60 min early: the 25-hour day lost an hour of running and busy time)."""
    # America/Chicago, clocks back on 2026-11-01 at 02:00 CDT (UTC-5) to 01:00 CST (UTC-6)
    runs = write(
        tmp_path / "orders_2026-10-31.csv",
        """WorkOrder,Line,SKU,StartTime,EndTime,GoodQty,RejectQty
WO-1,L1,CAN-24OZ,10/31/2026 22:17,11/01/2026 04:06,31062,802
WO-2,L2,CAN-12OZ,10/31/2026 23:00,11/01/2026 01:30,100,1
""",
    )
    result = parse_events(plant_b, "production_runs", [runs], date(2026, 10, 31), con)
    assert_frames(result, RUNS_SCHEMA)
    got = [(r["order_id"], r["start_utc"], r["end_utc"]) for r in result.accepted.to_pylist()]
    assert got == [
        ("WO-1", utc(2026, 11, 1, 3, 17), utc(2026, 11, 1, 10, 6)),  # 04:06 CST, after the change
        ("WO-2", utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 6, 30)),  # 01:30 twice: the earlier instant, CDT
    ]
    # Europe/Berlin, clocks forward on 2026-03-29 at 02:00 CET (UTC+1) to 03:00 CEST (UTC+2)
    stops = write(
        tmp_path / "Stillstaende_20260328.csv",
        """LINIE;BEGINN;ENDE;GRUND;KATEGORIE
L1;28.03.2026 23:30:00;29.03.2026 05:00:00;Wartung;geplant
L2;28.03.2026 23:40:00;29.03.2026 02:30:00;Wartung;geplant
""",
    )
    result = parse_events(plant_a, "downtime_events", [stops], date(2026, 3, 28), con)
    assert_frames(result, DOWNTIME_SCHEMA)
    assert [(r["start_utc"], r["end_utc"]) for r in result.accepted.to_pylist()] == [
        (utc(2026, 3, 28, 22, 30), utc(2026, 3, 29, 3, 0)),  # 05:00 CEST
    ]
    assert quarantined(result) == {3: "bad_timestamp"}  # 02:30 on 03-29 never happened in Berlin
    assert "29.03.2026 02:30:00" in result.quarantine.column("raw_record")[0].as_py()


def test_events_unreadable_header(plant_b, con, tmp_path):
    path = write(tmp_path / "orders_2026-09-08.csv", "WorkOrder;Line;SKU\n1;L1;CAN-12OZ\n")
    result = parse_events(plant_b, "production_runs", [path], date(2026, 9, 8), con)
    assert_frames(result, RUNS_SCHEMA)
    assert result.reason_counts() == {"unreadable_file": 2}
    assert "seems to use ';'" in result.quarantine.column("reason_detail")[0].as_py()


# ----------------------------------------------------------------------------------------------
# Dispatch, files, configuration, time zones


def test_files_for_day(plant_a, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "PI_RecordedValues_20260907.csv").write_text("x")
    (landing / "PI_RecordedValues_20260908.csv").write_text("x")
    (landing / "Auftraege_20260907.csv").write_text("x")
    (landing / "sub").mkdir()
    (landing / "sub" / "Stillstaende_20260907.csv").write_text("x")
    outside = tmp_path / "secret.csv"
    outside.write_text("x")
    os.symlink(outside, landing / "Stillstaende_20260907.csv")
    day = date(2026, 9, 7)
    assert files_for_day(plant_a, landing, day, "historian") == [landing / "PI_RecordedValues_20260907.csv"]
    assert files_for_day(plant_a, landing, day, "production_runs") == [landing / "Auftraege_20260907.csv"]
    assert files_for_day(plant_a, landing, day, "downtime_events") == []  # symlink leads outside
    (refused,) = refused_for_day(plant_a, landing, day, "downtime_events")  # ... and is named, with why
    assert refused.name == "Stillstaende_20260907.csv" and refused.staged is None
    assert refused.problem == f"refused: a symlink that leads out of the landing folder {landing} (to {outside})"
    os.symlink(tmp_path / "gone.csv", landing / "Auftraege_20260908.csv")
    (dangling,) = refused_for_day(plant_a, landing, date(2026, 9, 8), "production_runs")
    assert dangling.problem.startswith("refused: a symlink that leads nowhere")
    assert refused_for_day(plant_a, landing, day, "historian") == []
    assert files_for_day(plant_a, tmp_path / "nowhere", day, "historian") == []
    globbed = plant_a.historian.model_copy(update={"file_pattern": "PI_*_{date:%Y%m%d}*.csv"})
    (landing / "PI_Part2_20260907_b.csv").write_text("x")
    plant = plant_a.model_copy(update={"historian": globbed})
    assert [p.name for p in files_for_day(plant, landing, "2026-09-07", "historian")] == [
        "PI_Part2_20260907_b.csv",
        "PI_RecordedValues_20260907.csv",
    ]
    with pytest.raises(ValueError):
        files_for_day(plant_a, landing, day, "nonsense")  # type: ignore[arg-type]


def test_dispatch_and_config_errors(plant_a, plant_b, plant_c, con, tmp_path):
    assert parse_historian(plant_b, [], date(2026, 9, 7), con).accepted.num_rows == 0
    for plant in (plant_a, plant_b, plant_c):
        empty = parse_historian(plant, [], date(2026, 9, 7), con)
        assert_frames(empty)
    bad_fmt = plant_a.model_copy(
        update={"historian": plant_a.historian.model_copy(update={"options": {"timestamp_format": "%Q"}})}
    )
    with pytest.raises(DialectConfigError, match="timestamp_format"):
        parse_historian(bad_fmt, [], date(2026, 9, 7), con)
    typo = plant_a.model_copy(
        update={"historian": plant_a.historian.model_copy(update={"options": {"timestamp_fromat": "%d"}})}
    )
    with pytest.raises(DialectConfigError, match="unknown option"):
        parse_historian(typo, [], date(2026, 9, 7), con)
    zoned = plant_a.model_copy(
        update={"historian": plant_a.historian.model_copy(update={"options": {"timestamp_format": "%Y-%m-%d %z"}})}
    )
    with pytest.raises(DialectConfigError, match="UTC offset"):
        parse_historian(zoned, [], date(2026, 9, 7), con)
    escape = plant_c.model_copy(
        update={"historian": plant_c.historian.model_copy(update={"options": {"tag_table": "../etc/passwd"}})}
    )
    with pytest.raises(DialectConfigError, match="bare file name"):
        parse_historian(escape, [], date(2026, 9, 7), con)
    with pytest.raises(ValueError, match="kind"):
        parse_events(plant_a, "shifts", [], date(2026, 9, 7), con)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("America/Chicago", date(2026, 3, 8), 23),
        ("America/Chicago", date(2026, 11, 1), 25),
        ("Asia/Kolkata", date(2026, 9, 7), 24),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
        ("America/Santiago", date(2026, 9, 6), 23),
    ],
)
def test_local_day_matches_zoneinfo(con, tz, day, hours):
    local_day = LocalDay(tz, day)
    assert (local_day.end_utc - local_day.start_utc) == timedelta(hours=hours)
    # Every minute of the local day converts like zoneinfo does (first pass in a fold, NULL in a gap).
    minutes = [datetime.combine(day, datetime.min.time()) + timedelta(minutes=m) for m in range(0, 24 * 60, 5)]
    sql = f"SELECT x, {local_day.utc_sql('x')}, {local_day.gap_sql('x')} FROM unnest($xs::TIMESTAMP[]) AS t(x)"
    params = bind(sql, {**local_day.params(), "xs": minutes})
    for local, got, in_gap in con.execute(sql, params).fetchall():
        expected = local_to_utc(tz, local)
        exists = expected.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).replace(tzinfo=None) == local
        assert in_gap == (not exists)
        if exists:
            assert got == expected, local
