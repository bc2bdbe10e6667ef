"""The mtconnect_shdr dialect on real MTConnect agent logs of the NIST SMS test bed (tests/fixtures/real_plants/
nist_mazak01, see its SOURCE.txt) and on small hand-written logs for what the real ones do not show.

Expected values come from the raw lines by plain Python (string splitting, tests/helpers/state_timeline.py)
or are written by hand; none comes from plant_assets code.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from pydantic import ValidationError

from plant_assets.core.plant_config import PlantConfig, TagMapping, load_plant
from plant_assets.ingest.contract import DialectConfigError
from plant_assets.ingest.exports import files_for_day, parse_historian
from tests.conftest import REPO_ROOT
from tests.helpers.state_timeline import shdr_events, state_minutes
from tests.unit.test_dialects import assert_frames, quarantined, write

NIST = REPO_ROOT / "tests" / "fixtures" / "real_plants" / "nist_mazak01"
EXPORTS = NIST / "exports"
DAY_0710 = EXPORTS / "Mazak01-20180710-20180711.txt"
ITEMS = ("execution", "mode", "Sload", "Srpm", "system_cond")


def item(tag: str) -> TagMapping:
    # The dialect does not read the signal; a machine-state signal is not in today's catalog (issue 19).
    return TagMapping(source_tag=tag, signal="motor_current", source_unit="A", line_id="MAZAK01", asset_id="MAZAK01")


def nist_plant(timezone: str = "UTC", options: dict | None = None, items=ITEMS) -> PlantConfig:
    """The draft NIST config (fixture), its tag map replaced by the items under test."""
    raw = yaml.safe_load((NIST / "plant.yaml").read_text(encoding="utf-8"))
    raw["timezone"] = timezone
    if options is not None:
        raw["historian"]["options"] = options
    return PlantConfig(**raw, tag_map=tuple(item(t) for t in items))


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def raw_lines(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_draft_nist_config_loads_and_finds_its_day_file():
    plant = load_plant(NIST)
    assert plant.historian.dialect == "mtconnect_shdr" and plant.tag_map[0].source_tag == "execution"
    assert files_for_day(plant, EXPORTS, date(2018, 7, 10), "historian") == [DAY_0710]


def test_every_line_is_accepted_or_quarantined_and_the_counts_reconcile(con):
    result = parse_historian(nist_plant(), [DAY_0710], date(2018, 7, 10), con)
    assert_frames(result)
    fields = raw_lines(DAY_0710)
    unmapped = sum(1 for f in fields if f[1] not in ITEMS)
    # Of the mapped items' lines before the day (the opening dump), the latest of each is carried to 00:00.
    before = [f for f in fields if f[1] in ITEMS and f[0] < "2018-07-10"]
    rec = result.reconciliation.to_pylist()
    print("NIST 2018-07-10:", rec, result.reason_counts())
    assert rec == [{"source_file": DAY_0710.name, "raw_records": 988, "accepted_records": 186,
                    "quarantined_records": 802}]
    assert len(fields) == 988 and unmapped == 801 and len(before) == len(ITEMS)
    # 801 unmapped lines, and one system_cond line raising and clearing two codes at one instant (lines 959/960)
    assert result.reason_counts() == {"unknown_tag": 801, "duplicate": 1}
    assert quarantined(result)[960] == "duplicate"
    detail = result.quarantine.to_pandas().set_index("source_line").loc[960, "reason_detail"]
    assert "another condition at the same instant" in detail and "(line 959)" in detail


def test_readings_match_the_raw_lines(con):
    result = parse_historian(nist_plant(), [DAY_0710], date(2018, 7, 10), con)
    fields = raw_lines(DAY_0710)
    by_line = {r["source_line"]: r for r in result.accepted.to_pylist()}
    # Hand-read from the file.
    assert by_line[113] == {"tag": "execution", "ts_utc": datetime(2018, 7, 10, 10, 18, 44, 365000), "value": None,
                            "quality": "good", "status_text": "STOPPED", "source_file": DAY_0710.name,
                            "source_line": 113}
    assert by_line[171]["status_text"] == "Warning|1105|||SAFETY SHIELD CALCULATING"
    assert (by_line[171]["tag"], by_line[171]["quality"]) == ("system_cond", "good")
    # Every accepted line not carried from the dump, against its raw line split by hand.
    numbers = 0
    for line_no, row in by_line.items():
        ts, tag, *rest = fields[line_no - 1]
        assert row["tag"] == tag
        if ts < "2018-07-10":
            continue
        assert row["ts_utc"] == datetime.fromisoformat(ts.rstrip("Z"))
        if rest[0] == "UNAVAILABLE" or rest[0] == "Unavailable":
            assert (row["quality"], row["value"], row["status_text"]) == ("bad", None, rest[0])
        elif len(rest) == 5:  # a condition
            assert (row["quality"], row["value"], row["status_text"]) == ("good", None, "|".join(rest))
        elif tag in ("execution", "mode"):
            assert (row["quality"], row["value"], row["status_text"]) == ("good", None, rest[0])
        else:
            assert (row["quality"], row["value"], row["status_text"]) == ("good", float(rest[0]), None)
            numbers += 1
    assert numbers == 29  # Sload 14 + Srpm 15 numeric events


def test_the_opening_dump_carries_each_items_state_to_the_start_of_the_day(con):
    for timezone, day_start in (("UTC", datetime(2018, 7, 10)), ("America/New_York", datetime(2018, 7, 10, 4))):
        result = parse_historian(nist_plant(timezone), [DAY_0710], date(2018, 7, 10), con)
        carried = [r for r in result.accepted.to_pylist() if r["ts_utc"] == day_start]
        # The dump (lines 35-70 for these items, read with grep -n) says UNAVAILABLE for all of them, set 2018-07-09T19:14:19Z.
        assert sorted((r["tag"], r["source_line"], r["status_text"], r["quality"]) for r in carried) == [
            ("Sload", 35, "UNAVAILABLE", "bad"), ("Srpm", 38, "UNAVAILABLE", "bad"),
            ("execution", 69, "UNAVAILABLE", "bad"), ("mode", 70, "UNAVAILABLE", "bad"),
            ("system_cond", 57, "Unavailable", "bad"),
        ]
        for row in carried:
            assert raw_lines(DAY_0710)[row["source_line"] - 1][0] == "2018-07-09T19:14:19.779842Z"


def test_execution_state_timeline_of_a_day_matches_an_independent_count(con):
    start, end = datetime(2018, 7, 10), datetime(2018, 7, 11)
    # Hand-checked once against a shell pass (date + awk) over the raw execution lines.
    expected = {"ACTIVE": 12.340767, "INTERRUPTED": 10.217517, "READY": 222.425888, "STOPPED": 268.991241,
                "UNAVAILABLE": 926.024588}
    truth = state_minutes(shdr_events(DAY_0710, "execution"), start, end)
    result = parse_historian(nist_plant(), [DAY_0710], date(2018, 7, 10), con)
    accepted = [(r["ts_utc"], r["status_text"]) for r in result.accepted.to_pylist() if r["tag"] == "execution"]
    from_lake = state_minutes(accepted, start, end)
    print("execution minutes 2018-07-10 (UTC day):", from_lake)
    assert truth == expected
    assert from_lake == pytest.approx(expected, abs=1e-5)
    assert sum(expected.values()) == pytest.approx(24 * 60, abs=1e-5)


@pytest.mark.parametrize("name, day, expected", [
    ("Mazak01-20180702-20180703.txt", date(2018, 7, 2),
     {"ACTIVE": 18.17325, "FEED_HOLD": 0.893617, "INTERRUPTED": 2.454967, "READY": 424.595103,
      "STOPPED": 94.626141, "UNAVAILABLE": 899.256921}),
    ("Mazak01-20180704-20180705.txt", date(2018, 7, 4), {"UNAVAILABLE": 1440.0}),
    ("Mazak01-20180717-20180718.txt", date(2018, 7, 17),
     {"ACTIVE": 159.031929, "FEED_HOLD": 0.418083, "INTERRUPTED": 0.613917, "READY": 278.868871,
      "STOPPED": 137.533391, "UNAVAILABLE": 863.533809}),
])
def test_other_days_timelines_and_reconciliation(con, name, day, expected):
    path = EXPORTS / name
    start = datetime.combine(day, datetime.min.time())
    result = parse_historian(nist_plant(), [path], day, con)
    assert_frames(result)
    assert result.reconciliation.to_pylist()[0]["raw_records"] == len(raw_lines(path))
    accepted = [(r["ts_utc"], r["status_text"]) for r in result.accepted.to_pylist() if r["tag"] == "execution"]
    print(name, state_minutes(accepted, start, start + timedelta(days=1)))
    assert state_minutes(shdr_events(path, "execution"), start, start + timedelta(days=1)) == expected
    assert state_minutes(accepted, start, start + timedelta(days=1)) == pytest.approx(expected, abs=1e-5)


LOG = """2026-09-06T20:00:00Z|execution|READY
2026-09-06T21:00:00.5Z|execution|STOPPED
2026-09-06T21:00:00.5Z|Sload|12
2026-09-07T00:00:00Z|Sload|15
2026-09-07T01:00:00.250Z|execution|ACTIVE
2026-09-07T01:00:00.250Z|Sload|40.5
2026-09-07T01:05:00Z|Sload|ACTIVE
2026-09-07T01:06:00Z|Sload|
2026-09-07T01:07:00Z|Sload|UNAVAILABLE
2026-09-07T01:08:00Z|execution|unavailable
2026-09-07T01:09:00Z|spindle_cond|Fault|149|||TAILSTOCK BARRIER
2026-09-07T01:10:00Z|spindle_cond|Broken||||
2026-09-07T01:11:00Z|spindle_cond|Unavailable||||
2026-09-07T01:12:00Z|Sload|1|extra
not a timestamp|Sload|3
2026-09-07T01:13:00Z|Xload|7
2026-09-08T00:00:00Z|Sload|9

"""


def test_hand_written_log_every_rule(con, tmp_path):
    path = write(tmp_path / "agent_20260907.txt", LOG)
    plant = nist_plant(items=("execution", "Sload", "spindle_cond"))
    result = parse_historian(plant, [path], date(2026, 9, 7), con)
    assert_frames(result)
    q = quarantined(result)
    assert q == {1: "outside_partition_day", 3: "outside_partition_day", 7: "bad_value", 8: "bad_value",
                 12: "bad_value", 14: "malformed_row", 15: "bad_timestamp", 16: "unknown_tag",
                 17: "outside_partition_day"}
    details = dict(zip(result.quarantine.column("source_line").to_pylist(),
                       result.quarantine.column("reason_detail").to_pylist()))
    assert "historian.options.text_items" in details[7]
    assert "line has 4 fields" in details[14]
    rows = {r["source_line"]: (r["tag"], r["ts_utc"], r["value"], r["quality"], r["status_text"])
            for r in result.accepted.to_pylist()}
    day = datetime(2026, 9, 7)
    assert rows == {
        2: ("execution", day, None, "good", "STOPPED"),  # the latest before the day, carried
        4: ("Sload", day, 15.0, "good", None),  # an event at 00:00 itself: nothing carried (line 3 outside)
        5: ("execution", datetime(2026, 9, 7, 1, 0, 0, 250000), None, "good", "ACTIVE"),
        6: ("Sload", datetime(2026, 9, 7, 1, 0, 0, 250000), 40.5, "good", None),
        9: ("Sload", datetime(2026, 9, 7, 1, 7), None, "bad", "UNAVAILABLE"),
        10: ("execution", datetime(2026, 9, 7, 1, 8), None, "bad", "unavailable"),
        11: ("spindle_cond", datetime(2026, 9, 7, 1, 9), None, "good", "Fault|149|||TAILSTOCK BARRIER"),
        13: ("spindle_cond", datetime(2026, 9, 7, 1, 11), None, "bad", "Unavailable"),
    }


def test_initial_state_quarantine_and_crlf(con, tmp_path):
    path = write(tmp_path / "agent_20260907.txt", LOG, newline="\r\n")
    plant = nist_plant(options={"initial_state": "quarantine"}, items=("execution", "Sload", "spindle_cond"))
    result = parse_historian(plant, [path], date(2026, 9, 7), con)
    assert_frames(result)
    q = quarantined(result)
    assert q[1] == q[2] == q[3] == "outside_partition_day"
    assert {r["source_line"] for r in result.accepted.to_pylist()} == {4, 5, 6, 9, 10, 11, 13}
    assert {r["status_text"] for r in result.accepted.to_pylist() if r["source_line"] == 11} == {
        "Fault|149|||TAILSTOCK BARRIER"}


def test_text_items_are_configurable_and_options_are_checked(con, tmp_path):
    path = write(tmp_path / "agent_20260907.txt", "2026-09-07T01:00:00Z|exec|ACTIVE\n2026-09-07T01:00:00Z|mode|AUTO\n")
    plant = nist_plant(options={"text_items": ["exec"]}, items=("exec", "mode"))
    result = parse_historian(plant, [path], date(2026, 9, 7), con)
    assert [r["status_text"] for r in result.accepted.to_pylist()] == ["ACTIVE"]
    assert quarantined(result) == {2: "bad_value"}  # mode is no longer a text item
    for options, message in (({"initial_state": "keep"}, "initial_state must be one of"),
                             ({"text_items": "execution"}, "text_items must be a list")):
        with pytest.raises(DialectConfigError, match=message):
            parse_historian(nist_plant(options=options), [path], date(2026, 9, 7), con)
    with pytest.raises(ValidationError, match=r"unknown mtconnect_shdr option\(s\) \['delimiter'\]"):
        nist_plant(options={"delimiter": ";"})  # SHDR is always '|'


def test_plant_init_drafts_the_items_of_a_sample(tmp_path):
    from plant_assets.onboarding.sample import read_sample

    read = read_sample("mtconnect_shdr", {}, "UTC", DAY_0710)
    items = Counter(f[1] for f in raw_lines(DAY_0710))
    assert read.day == date(2018, 7, 10) and read.tags == sorted(items)
    assert read.stats["Sload"].n_good == 14 and read.stats["Sload"].max == max(
        float(f[2]) for f in raw_lines(DAY_0710) if f[1] == "Sload" and f[2] != "UNAVAILABLE")


@pytest.mark.parametrize("content, reasons, values", [
    (b"", {"unreadable_file": 1}, []),
    (b"\n\n", {"unreadable_file": 1}, []),
    (b"2026-09-07T01:00:00Z|Sload|1\x00\n", {"unreadable_file": 1}, []),
    ("\ufeff2026-09-07T01:00:00Z|Sload|1\n\n2026-09-07T01:01:00Z|Sload|2\n".encode("utf-8"), {}, [1.0, 2.0]),
    ("2026-09-07T01:00:00Z|Sload|1\n".encode("utf-16"), {}, [1.0]),
])
def test_files_that_are_not_plain_logs(con, tmp_path, content, reasons, values):
    path = tmp_path / "agent_20260907.txt"
    path.write_bytes(content)
    result = parse_historian(nist_plant(items=("Sload",)), [path], date(2026, 9, 7), con)
    assert_frames(result)
    assert result.reason_counts() == reasons
    assert [r["value"] for r in result.accepted.to_pylist()] == values
