"""A corpus of bad historian exports, each with its expected outcome; reconciliation (raw = accepted +
quarantined, per file) holds in every case and no case raises.

Most cases use the generic long dialect (header `tag,timestamp,value,quality,unit`, Europe/Berlin, day
2026-09-07); a few use the other dialects where the problem is specific to them.
"""

from __future__ import annotations

import codecs
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import pytest
import yaml
from pydantic import ValidationError

from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.exports import files_for_day, parse_historian
from tests.unit.test_dialects import assert_frames, load_demo_plant
from tests.unit.test_dialects_configurable import TAGS, tag_mapping

DAY = date(2026, 9, 7)
H = "tag,timestamp,value,quality,unit\n"
OK1 = "L1.Energy,2026-09-07 00:00:00,1500.5,good,kWh\n"
OK2 = "L1.Energy,2026-09-07 00:01:00,1501.0,good,kWh\n"
OK3 = "L1.M1.Amps,2026-09-07 00:00:30,41.2,good,A\n"
INJECTION = "x'); DROP TABLE readings; --"


@dataclass
class Case:
    id: str
    files: dict[str, bytes]  # file name -> bytes (None-valued names are passed but never written)
    accepted: int
    reasons: dict[str, int] = field(default_factory=dict)
    dialect: str = "generic"
    options: dict = field(default_factory=lambda: {"columns": {"tag": "tag", "ts": "timestamp", "value": "value",
                                                               "quality": "quality", "unit": "unit"}})
    day: date = DAY
    detail: str | None = None  # a text every quarantine reason_detail of the case contains
    missing: tuple[str, ...] = ()


def u8(text: str) -> bytes:
    return text.encode("utf-8")


CASES = [
    Case("empty_file", {"h.csv": b""}, 0, {"unreadable_file": 1}, detail="empty"),
    Case("blank_lines_only", {"h.csv": b"\n\n   \n"}, 0, {"unreadable_file": 1}, detail="no header"),
    Case("header_only", {"h.csv": u8(H)}, 0),
    Case("clean", {"h.csv": u8(H + OK1 + OK2 + OK3)}, 3),
    Case("truncated_last_line", {"h.csv": u8(H + OK1 + "L1.Energy,2026-09-07 00:0")}, 1, {"malformed_row": 1}),
    Case("truncated_mid_timestamp", {"h.csv": u8(H + OK1 + "L1.Energy,2026-09-07 00:0,1,good,kWh")}, 1,
         {"bad_timestamp": 1}),
    Case("wrong_delimiter", {"h.csv": u8((H + OK1 + OK2).replace(",", ";"))}, 0, {"unreadable_file": 3},
         detail="seems to use ';'"),
    Case("utf8_bom_crlf", {"h.csv": codecs.BOM_UTF8 + u8(H + OK1 + OK2).replace(b"\n", b"\r\n")}, 2),
    Case("utf16_bom", {"h.csv": (H + OK1 + OK2).encode("utf-16")}, 2),
    Case("mixed_encodings", {"h.csv": u8(H + OK1) + "Zähler,2026-09-07 00:02:00,1,good,count\n".encode("cp1252")
                             + u8("Zähler,2026-09-07 00:03:00,1,good,count\n" + OK2)}, 2, {"unknown_tag": 2}),
    Case("duplicate_header_concatenated", {"h.csv": u8(H + OK1 + H + OK2)}, 2, {"unknown_tag": 1}),
    Case("duplicate_column_in_header", {"h.csv": u8("tag,timestamp,value,value,quality,unit\n"
                                                    "L1.Energy,2026-09-07 00:00:00,1,2,good,kWh\n")}, 0,
         {"unreadable_file": 2}, detail="more than once"),
    Case("missing_required_column", {"h.csv": u8("tag,time,value\nL1.Energy,2026-09-07 00:00:00,1\n")}, 0,
         {"unreadable_file": 2}, detail="lacks column"),
    Case("non_numeric_value", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,12.5.1,good,kWh\n" + OK2)}, 1,
         {"bad_value": 1}),
    Case("nan_value", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,NaN,good,kWh\n" + OK2)}, 1, {"bad_value": 1},
         detail="finite"),
    Case("inf_values", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,inf,good,kWh\n"
                                    "L1.Energy,2026-09-07 00:00:10,-Infinity,good,kWh\n" + OK2)}, 1,
         {"bad_value": 2}),
    Case("empty_value_good_quality", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,,good,kWh\n")}, 0,
         {"bad_value": 1}),
    Case("empty_value_bad_quality_is_kept_bad", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,,bad,kWh\n")}, 1),
    Case("unparseable_timestamp", {"h.csv": u8(H + "L1.Energy,yesterday noon,1,good,kWh\n" + OK1)}, 1,
         {"bad_timestamp": 1}, detail="does not match"),
    Case("future_timestamp", {"h.csv": u8(H + OK1 + "L1.Energy,2031-01-01 00:00:00,1,good,kWh\n")}, 1,
         {"outside_partition_day": 1}),
    Case("dst_gap_local_time", {"h.csv": u8(H + "L1.Energy,2026-03-29 02:30:00,1,good,kWh\n"
                                            "L1.Energy,2026-03-29 03:00:00,2,good,kWh\n")}, 1, {"bad_timestamp": 1},
         day=date(2026, 3, 29), detail="does not exist"),
    Case("dst_ambiguous_local_times", {"h.csv": u8(H + "L1.Energy,2026-10-25 02:30:00,1,good,kWh\n"
                                                   "L1.Energy,2026-10-25 02:45:00,2,good,kWh\n"
                                                   "L1.Energy,2026-10-25 02:30:00,3,good,kWh\n"
                                                   "L1.Energy,2026-10-25 02:45:00,4,good,kWh\n")}, 4,
         day=date(2026, 10, 25)),
    Case("binary_junk", {"h.csv": bytes(range(256)) * 8}, 0, {"unreadable_file": 9}, detail="binary"),  # 8 LF: 9 lines
    Case("unknown_tag", {"h.csv": u8(H + OK1 + "L7.Mystery,2026-09-07 00:00:00,1,good,kWh\n")}, 1,
         {"unknown_tag": 1}),
    Case("sql_injection_tag", {"h.csv": u8(H + f'"{INJECTION}",2026-09-07 00:00:00,1,good,kWh\n')}, 0,
         {"unknown_tag": 1}),
    Case("unit_change", {"h.csv": u8(H + OK1 + "L1.Energy,2026-09-07 00:01:00,1501000,good,Wh\n")}, 1,
         {"bad_value": 1}, detail="unit 'Wh'"),
    Case("unbalanced_quotes", {"h.csv": u8(H + '"L1.Energy,2026-09-07 00:00:00,1,good,kWh\n' + OK2)}, 1,
         {"malformed_row": 1}),
    Case("extra_field", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,1,good,kWh,x\n" + OK2)}, 1,
         {"malformed_row": 1}),
    Case("missing_field", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,1\n" + OK2)}, 1, {"malformed_row": 1}),
    Case("very_long_line", {"h.csv": u8(H + "L1.Energy," + "9" * 100_000 + "\n" + OK2)}, 1, {"malformed_row": 1}),
    # issue 23: one NUL byte spoils its line only; UTF-16 without a BOM is named; `1_000` is no number
    Case("nul_byte_in_one_line", {"h.csv": u8(H + OK1 + "L1.Energy,2026-09-07 00:00:10,1\x00,good,kWh\n" + OK2 + OK3)},
         3, {"malformed_row": 1}, detail="NUL byte at character 32"),
    Case("utf16_le_without_bom", {"h.csv": (H + OK1 + OK2).encode("utf-16-le")}, 0, {"unreadable_file": 4},
         detail="looks like UTF-16-LE text without a byte order mark"),  # 3 lines + the NUL after the last LF
    Case("underscore_in_number", {"h.csv": u8(H + "L1.Energy,2026-09-07 00:00:00,1_000,good,kWh\n" + OK2)}, 1,
         {"bad_value": 1}, detail="'1_000'"),
    Case("exact_duplicate_rows", {"h.csv": u8(H + OK1 + OK1 + OK2)}, 2, {"duplicate": 1}, detail="already read"),
    Case("redelivered_file", {"h.csv": u8(H + OK1 + OK2), "h_again.csv": u8(H + OK1 + OK2)}, 2, {"duplicate": 2}),
    Case("overlapping_exports", {"h.csv": u8(H + OK1 + OK2), "h_2.csv": u8(H + OK2 + OK3)}, 3, {"duplicate": 1}),
    Case("out_of_order_rows", {"h.csv": u8(H + OK2 + OK3 + OK1)}, 3),
    Case("stray_blank_and_whitespace_lines", {"h.csv": u8(H + "\n" + OK1 + "  \t \n" + OK2)}, 2),
    Case("spaces_around_fields", {"h.csv": u8(H + " L1.Energy , 2026-09-07 00:00:00 , 1500.5 , good , kWh \n")}, 1),
    Case("missing_file", {}, 0, {"unreadable_file": 1}, missing=("h_gone.csv",), detail="not found"),
    Case("bad_file_does_not_spoil_good_one", {"a.csv": b"\x00\x01\x02junk", "b.csv": u8(H + OK1)}, 1,
         {"unreadable_file": 1}),
    # dialect-specific cases
    Case("pi_digital_state_and_unknown_state", {"h.csv": u8("Tag,Timestamp,Value,Status\n"
                                                           "L1.Energy,07-Sep-2026 00:00:00,I/O Timeout,Bad\n"
                                                           "L1.Energy,07-Sep-2026 00:01:00,Kaputt,Good\n")}, 1,
         {"bad_value": 1}, dialect="pi_recorded", options={}),
    Case("aveva_wide_duplicate_tag_column", {"h.csv": u8("DateTime,L1.Energy,L1.Energy\n"
                                                        "2026-09-07 00:00:00.000,1,1\n")}, 1, {"duplicate": 1},
         dialect="aveva_wide", options={}),
    Case("aveva_narrow_bad_quality_string_value", {"h.csv": u8("DateTime,TagName,Value,vValue,Quality,QualityDetail,"
                                                              "OPCQuality\n2026-09-07 00:00:00.000,L1.Energy,,"
                                                              "I/O Timeout,1,249,0\n")}, 1,
         dialect="aveva_narrow", options={}),
    Case("canary_iso_with_offset", {"h.csv": u8("TagName,TimeStamp,Value,Quality\n"
                                                "L1.Energy,2026-09-07T05:00:00+02:00,1,192\n"
                                                "L1.Energy,2026-09-07T05:00:00Z,1,192\n")}, 2, {},
         dialect="canary_tvq", options={}),  # a written offset is the stamp's instant (issue 19): 03:00Z, 05:00Z
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE readings AS SELECT 1 AS keep")
    yield c
    c.close()


def _plant(case: Case) -> PlantConfig:
    tags = TAGS + (tag_mapping("x", "motor_current", "A", "L1", "L1-M2"),)
    return load_demo_plant("plant_a", tags, historian={"dialect": case.dialect, "file_pattern": "h.csv",
                                                       "options": case.options})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_case(case, con, tmp_path):
    paths = []
    for name, data in case.files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    paths += [tmp_path / m for m in case.missing]
    result = parse_historian(_plant(case), paths, case.day, con)
    assert_frames(result)  # schemas, raw = accepted + quarantined per file, counts match the frames
    assert result.accepted.num_rows == case.accepted
    assert result.reason_counts() == case.reasons
    assert len(result.reconciliation) == len(paths)
    if case.detail:
        details = result.quarantine.column("reason_detail").to_pylist()
        assert details and all(case.detail in d for d in details), details
    for row in result.quarantine.to_pylist():  # every quarantined record names its file
        assert row["source_file"] in {p.name for p in paths}
    assert con.execute("SELECT keep FROM readings").fetchall() == [(1,)]


def test_line_over_the_limit_is_quarantined_with_its_length(con, tmp_path, monkeypatch):
    """A line over PLANT_ASSETS_MAX_LINE_BYTES is counted and quarantined by file and line, mid-file or last."""
    monkeypatch.setenv("PLANT_ASSETS_MAX_LINE_BYTES", "1000")
    long_line = "L1.Energy,2026-09-07 00:00:20," + "9" * 1500 + ",good,kWh"  # 30 + 1500 + 9 = 1,539 bytes
    path = tmp_path / "h.csv"
    path.write_text(H + OK1 + long_line + "\n" + OK2 + long_line)  # the last one without a line end
    result = parse_historian(_plant(CASES[0]), [path], DAY, con)
    assert_frames(result)
    assert result.reconciliation.to_pylist() == [{"source_file": "h.csv", "raw_records": 4, "accepted_records": 2,
                                                  "quarantined_records": 2}]
    rows = result.quarantine.to_pylist()
    assert [(r["source_line"], r["reason_code"]) for r in rows] == [(3, "malformed_row"), (5, "malformed_row")]
    assert all(r["reason_detail"] == "line longer than 1000 bytes (1539 bytes); only its start is kept" for r in rows)
    assert all(r["raw_record"].startswith("L1.Energy,2026-09-07 00:00:20,999") for r in rows)


def test_a_40_mb_last_line_is_counted_not_dropped(con, tmp_path):
    """DuckDB's CSV reader drops a last line longer than its 32 MB buffer without an error: such a line must
    still be counted and quarantined (issue 23)."""
    path = tmp_path / "h.csv"
    path.write_text(H + OK1 + OK2 + "L1.Energy,2026-09-07 00:00:20," + "9" * 40_000_000)
    result = parse_historian(_plant(CASES[0]), [path], DAY, con)
    assert result.reconciliation.to_pylist() == [{"source_file": "h.csv", "raw_records": 3, "accepted_records": 2,
                                                  "quarantined_records": 1}]
    (row,) = result.quarantine.to_pylist()
    assert row["source_line"] == 4 and row["reason_detail"].startswith("line longer than 2097152 bytes (40000030 bytes)")


def test_corpus_is_large_enough():
    assert len(CASES) + 3 >= 30 and len(CASES) >= 30


def test_file_still_being_written_is_not_read(tmp_path):
    plant = load_demo_plant("plant_a", TAGS, historian={"dialect": "generic", "file_pattern": "h_{date:%Y%m%d}.csv",
                                                        "stable_after_seconds": 30})
    (tmp_path / "h_20260907.csv").write_text(H + OK1 + "L1.Energy,2026-09-07 00:0")
    assert files_for_day(plant, tmp_path, DAY, "historian") == []
    later = time.time() + 60
    assert files_for_day(plant, tmp_path, DAY, "historian", now=later) == [tmp_path / "h_20260907.csv"]


@pytest.mark.parametrize("plant_id", ["../etc", "plant_a/..", "Plant A", "a", "x" * 40, "p;drop"])
def test_unsafe_plant_ids_are_rejected(plant_id):
    raw = yaml.safe_load((REPO_ROOT / "plants" / "plant_a" / "plant.yaml").read_text())
    raw["plant_id"] = plant_id
    with pytest.raises(ValidationError):
        PlantConfig(**raw)


@pytest.mark.parametrize("pattern", ["../h_{date:%Y%m%d}.csv", "/etc/passwd", "sub/h.csv", "h_{nope}.csv"])
def test_unsafe_file_patterns_are_rejected(pattern):
    with pytest.raises(ValidationError):
        load_demo_plant("plant_a", TAGS, historian={"dialect": "generic", "file_pattern": pattern})


# Lab results exports (plant_a's LIMS layout: ';', decimal comma, local "%d.%m.%Y %H:%M", Europe/Berlin).
LAB_H = "PROBE;LINIE;AUFNR;MATERIAL;MERKMAL;MESSWERT;EINHEIT;ENTNAHME\n"
LAB_OK = "P1;L1;100;PET-050;Fuellmenge;500,2;ml;07.09.2026 08:00\n"


@dataclass
class LabCase:
    id: str
    text: str
    accepted: int
    reasons: dict[str, int]
    detail: str | None = None  # a text every quarantine reason_detail of the case contains


LAB_CASES = [
    LabCase("lab_unit_not_convertible", LAB_H + LAB_OK + "P2;L1;100;PET-050;Fuellmenge;0,5003;l;07.09.2026 09:00\n"
            "P3;L1;100;PET-050;Fuellmenge;500,1;mm;07.09.2026 10:00\n", 2, {"bad_value": 1},
            detail="cannot be converted to the spec unit 'ml'"),
    LabCase("lab_no_spec_and_bad_number", LAB_H + LAB_OK + "P2;L1;100;PET-050;Dichte;1,01;g/ml;07.09.2026 09:00\n"
            "P3;L1;100;PET-050;Fuellmenge;n.a.;ml;07.09.2026 10:00\n", 1, {"bad_value": 2}),
    LabCase("lab_duplicate_and_next_day", LAB_H + LAB_OK + LAB_OK + "P4;L1;100;PET-050;Fuellmenge;499,9;ml;"
            "08.09.2026 00:00\n", 1, {"duplicate": 1, "outside_partition_day": 1}),
]


@pytest.mark.parametrize("case", LAB_CASES, ids=[c.id for c in LAB_CASES])
def test_bad_lab_results_case(case, con, tmp_path):
    from plant_assets.ingest.exports import LAB_SCHEMA, parse_lab_results
    from plant_assets.ingest.contract import QUARANTINE_SCHEMA

    plant = load_demo_plant("plant_a", TAGS)
    path = tmp_path / "Laborwerte_20260907.csv"
    path.write_text(case.text, encoding="utf-8")
    result = parse_lab_results(plant, [path], DAY, con)
    assert result.accepted.schema.equals(LAB_SCHEMA) and result.quarantine.schema.equals(QUARANTINE_SCHEMA)
    assert result.unbalanced_files() == [] and result.reconciliation.column("raw_records").to_pylist() == [
        case.text.count("\n") - 1]
    assert result.accepted.num_rows == case.accepted
    assert result.reason_counts() == case.reasons
    for row in result.quarantine.to_pylist():  # named by file and line, with the raw line kept
        assert row["source_file"] == path.name and row["source_line"] >= 2 and row["raw_record"]
        assert case.detail is None or case.detail in row["reason_detail"]
    assert all(abs(v - 500.2) < 0.15 for v in result.accepted.column("value").to_pylist())  # l -> ml
