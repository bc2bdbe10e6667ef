"""`plant init` fails loudly when a sample yields no tags or no day, and `plant validate` catches what
`plant readiness` would trip on (issue 19, item 9). Hand-written samples; real CLI, real DuckDB."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.unit.test_cli import assert_clear_error, invoke

PI_TIME_HEADER = """Tag,Time,Value,Status
L1.Energy_kWh,08-Sep-2026 10:00:00,100.5,Good
L1.Energy_kWh,08-Sep-2026 10:01:00,101.0,Good
L1.M1.Amps,08-Sep-2026 10:00:00,41.2,Good
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANT_ASSETS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PLANT_ASSETS_PLANTS", str(tmp_path / "plants"))
    (tmp_path / "plants").mkdir()
    return tmp_path


def init(home, name: str, text: str, *extra: str):
    sample = home / name
    sample.write_text(text, encoding="utf-8")
    return invoke("plant", "init", "plant_t", "--sample", str(sample), "--dialect", "pi_recorded",
                  "--timezone", "America/Chicago", *extra)


def test_init_fails_when_the_sample_yields_no_tags(home):
    # PI's default column is Timestamp: the file is unreadable, so no tag is found
    result = init(home, "pi_20260908.csv", PI_TIME_HEADER)
    assert_clear_error(result, "yielded no tags", "Timestamp")
    assert not (home / "plants" / "plant_t" / "plant.yaml").exists()
    result = init(home, "pi_20260908.csv", PI_TIME_HEADER, "--options", '{"columns": {"ts": "Time"}}')
    assert result.exit_code == 0, result.output
    assert "2 tags" in result.output and "day 2026-09-08" in result.output


def test_init_never_uses_todays_date_for_a_name_without_one(home):
    options = ("--options", '{"columns": {"ts": "Time"}}')
    assert_clear_error(init(home, "pi_export.csv", PI_TIME_HEADER, *options), "holds no date", "--day")
    result = init(home, "pi_export.csv", PI_TIME_HEADER, *options, "--day", "2026-09-08")
    assert result.exit_code == 0, result.output


def test_init_fails_when_no_reading_falls_in_the_day(home):
    result = init(home, "pi_export.csv", PI_TIME_HEADER, "--options", '{"columns": {"ts": "Time"}}',
                  "--day", "2026-09-01")
    assert_clear_error(result, "no reading", "outside_partition_day")


def test_validate_catches_option_values_and_exports_that_read_nothing(home):
    result = init(home, "pi_20260908.csv", PI_TIME_HEADER, "--options", '{"columns": {"ts": "Time"}}')
    assert result.exit_code == 0, result.output
    assert invoke("plant", "validate", "plant_t").exit_code == 0  # no landing exports yet

    landing = home / "state" / "landing" / "plant_t"
    landing.mkdir(parents=True)
    # an export whose header lost the configured time column: readiness would show it unreadable
    (landing / "pi_20260908.csv").write_text(PI_TIME_HEADER.replace("Time", "Zeit"), encoding="utf-8")
    assert_clear_error(invoke("plant", "validate", "plant_t"), "cannot be read", "Time")
    (landing / "pi_20260908.csv").write_text(PI_TIME_HEADER, encoding="utf-8")
    assert invoke("plant", "validate", "plant_t").exit_code == 0

    plant_yaml = home / "plants" / "plant_t" / "plant.yaml"
    config = yaml.safe_load(plant_yaml.read_text(encoding="utf-8"))
    config["historian"]["options"]["zone_abbreviations"] = {"CDT": "five hours"}  # a name validate knows
    plant_yaml.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert_clear_error(invoke("plant", "validate", "plant_t"), "is not a UTC offset")


def test_validate_checks_a_history_export_on_its_first_days(home):
    """A dateless history file matches every day: validate and readiness check it on the days from the plant's
    history_start, not on today (where all its rows are outside the day and none would be accepted)."""
    history = PI_TIME_HEADER.replace("08-Sep-2026", "02-Mar-2018")
    result = init(home, "pi_history.csv", history, "--options", '{"columns": {"ts": "Time"}}', "--day", "2018-03-02")
    assert result.exit_code == 0, result.output
    plant_yaml = home / "plants" / "plant_t" / "plant.yaml"
    config = yaml.safe_load(plant_yaml.read_text(encoding="utf-8"))
    config["history_start"] = "2018-03-01"
    plant_yaml.write_text(yaml.safe_dump(config), encoding="utf-8")
    landing = home / "state" / "landing" / "plant_t"
    landing.mkdir(parents=True)
    (landing / "pi_history.csv").write_text(history, encoding="utf-8")
    assert invoke("plant", "validate", "plant_t").exit_code == 0
    result = invoke("plant", "readiness", "plant_t", "--json")
    assert result.exit_code == 0, result.output
    parse = json.loads(result.output)["parse"]
    assert parse["days"] == ["2018-03-01", "2018-03-02", "2018-03-03"]
    assert (parse["raw"], parse["accepted"]) == (3 * 3, 3)  # the file is read for each day; its 3 rows on 03-02
