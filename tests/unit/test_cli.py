"""The `plant-assets` command line as its users meet it: every command's --help says what it does and
shows an example; every error is `Error: <what>` plus `Hint: <fix>`, a non-zero exit code and no
traceback. Real temp dirs, a real DuckDB file and a real MLflow SQLite store; nothing is mocked."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from plant_assets.cli import app
from tests.conftest import REPO_ROOT

COMMANDS = [
    "", "demo", "summary", "simulate", "run", "dbt-parse", "report",
    "plant", "plant init", "plant validate", "plant readiness",
    "models", "models list", "models approve", "models reject", "models rollback",
    "alerts", "alerts list", "alerts ack", "alerts resolve", "alerts deliver",
    "gates", "gates docs",
]
WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}  # help text on one line per sentence


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE, prog_name="plant-assets")


def assert_clear_error(result, *expected: str, exit_code: int = 1) -> None:
    """Exit code, our two-line error (or click's usage error), the expected words, and no traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if exit_code == 1:
        assert "Error:" in result.output and "Hint:" in result.output, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A state folder where `make demo` never ran, and a plants folder with plant_a and a broken plant."""
    plants = tmp_path / "plants"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", plants / "plant_a")
    (plants / "plant_bad").mkdir()
    (plants / "plant_bad" / "plant.yaml").write_text("plant_id: plant_bad\ntimezone: Mars/Olympus\n")
    state = tmp_path / "state"
    monkeypatch.setenv("PLANT_ASSETS_HOME", str(state))
    monkeypatch.setenv("PLANT_ASSETS_PLANTS", str(plants))
    monkeypatch.setenv("PLANT_ASSETS_DUCKDB", str(state / "warehouse.duckdb"))
    monkeypatch.setenv("PLANT_ASSETS_LAKE", str(state / "lake"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{state / 'mlflow.db'}")
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_what_it_does_and_an_example(command):
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: plant-assets" in result.output
    assert "Example: plant-assets" in result.output, result.output


def test_top_level_help_shows_the_command_tree():
    result = invoke("--help")
    for name in ("demo", "summary", "simulate", "run", "plant", "models", "alerts", "report", "gates"):
        assert f" {name} " in result.output, name
    assert "Start here" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["report", "plant_x"],
        ["plant", "validate", "plant_x"],
        ["plant", "readiness", "plant_x"],
        ["alerts", "list", "--plant", "plant_x"],
        ["run", "--plant", "plant_x"],
    ],
)
def test_unknown_plant_names_the_known_ones(home, args):
    result = invoke(*args)
    assert_clear_error(result, "unknown plant 'plant_x'", "known plants: plant_a, plant_bad", "plant-assets plant init")


@pytest.mark.parametrize(
    "args, what",
    [
        (["summary"], "no warehouse"),
        (["report", "plant_a"], "no warehouse"),
        (["alerts", "list"], "no warehouse"),
        (["alerts", "ack", "a1"], "no warehouse"),
        (["alerts", "resolve", "a1"], "no warehouse"),
        (["models", "list"], "no MLflow store"),
        (["models", "rollback", "energy_baseline.plant_a", "--by", "me", "--reason", "r"], "no MLflow store"),
    ],
)
def test_missing_state_says_to_run_the_demo_first(home, args, what):
    result = invoke(*args)
    assert_clear_error(result, what, "make demo")
    # and does not leave an empty store behind that would hide the problem next time
    assert not (home / "state" / "warehouse.duckdb").exists()
    assert not (home / "state" / "mlflow.db").exists()


def test_invalid_plant_yaml_names_the_problem_and_the_fix(home):
    result = invoke("plant", "validate", "plant_bad")
    assert_clear_error(result, "invalid plant_bad", "tag_map.csv", "1 invalid plant config(s): plant_bad")
    result = invoke("plant", "readiness", "plant_bad")
    assert_clear_error(result, "plant plant_bad has an invalid config", "plant-assets plant validate plant_bad")
    result = invoke("run", "--plant", "plant_bad")
    assert_clear_error(result, "plant plant_bad has an invalid config")
    assert invoke("plant", "validate", "plant_a").exit_code == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["simulate", "--start", "tomorrow"], ["'tomorrow' is not a day", "YYYY-MM-DD"]),
        (["simulate", "--days", "0"], ["--days"]),
        (["demo", "--days", "1"], ["--days"]),
        (["run", "--first-day", "2026-09-09", "--last-day", "2026-09-01"], ["is before --first-day"]),
        (["run", "--last-day", "2026-02-30"], ["'2026-02-30' is not a day"]),
        (["alerts", "list", "--status", "closed"], ["'closed' is not a status", "open, acknowledged, resolved"]),
        (["models", "list", "--use-case", "vibes"], ["'vibes' is not a use case", "energy_baseline"]),
        (["plant", "readiness", "plant_a", "--day", "2026-13-01"], ["'2026-13-01' is not a day"]),
        (["plant", "init", "plant_d", "--sample", "missing.csv"], ["--sample", "does not exist"]),
        (["alerts", "ack"], ["Missing argument"]),
    ],
)
def test_bad_option_values_are_usage_errors(home, args, words):
    assert_clear_error(invoke(*args), *words, "--help", exit_code=2)


def test_plant_init_rejects_bad_dialect_timezone_and_options(home):
    sample = home / "sample.csv"
    sample.write_text("tag,ts,value\nT1,2026-09-07 00:00:00,1\n")
    base = ["plant", "init", "plant_d", "--sample", str(sample)]
    assert_clear_error(invoke(*base, "--dialect", "osisoft"), "unknown dialect 'osisoft'", "generic", exit_code=2)
    assert_clear_error(invoke(*base, "--timezone", "Mars/Olympus"), "not an IANA time zone", exit_code=2)
    assert_clear_error(invoke(*base, "--options", "[1]"), "is not a JSON object", exit_code=2)
    assert not (home / "plants" / "plant_d").exists()
    bad_id = ["plant", "init", "../evil", "--sample", str(sample)]
    assert_clear_error(invoke(*bad_id), "'../evil' is not a plant id", "lower case letters")


def test_unknown_alert_id_with_a_warehouse(home):
    (home / "state").mkdir()
    duckdb.connect(str(home / "state" / "warehouse.duckdb")).close()
    assert_clear_error(invoke("alerts", "ack", "no-such-alert"), "no alert 'no-such-alert'", "alerts list")
    assert_clear_error(invoke("alerts", "resolve", "no-such-alert"), "no alert 'no-such-alert'")
    result = invoke("alerts", "list", "--json")
    assert result.exit_code == 0, result.output


@pytest.fixture
def registry(home):
    """A real MLflow SQLite registry with energy_baseline.plant_a v1 (neither champion nor challenger)."""
    from mlflow import MlflowClient

    (home / "state").mkdir(exist_ok=True)
    uri = f"sqlite:///{home / 'state' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("energy_baseline.plant_a")
    client.create_model_version("energy_baseline.plant_a", source=str(home / "model"))
    return client


def test_unknown_model_or_version_names_the_existing_ones(registry):
    by = ["--by", "jane", "--reason", "test"]
    assert_clear_error(invoke("models", "approve", "energy_baseline.plant_x", "1", *by),
                       "no registered model 'energy_baseline.plant_x'", "energy_baseline.plant_a")
    assert_clear_error(invoke("models", "approve", "energy_baseline.plant_a", "7", *by),
                       "has no version '7'", "its versions: 1")
    assert_clear_error(invoke("models", "reject", "energy_baseline.plant_a", "7", *by), "has no version '7'")
    assert_clear_error(invoke("models", "rollback", "energy_baseline.plant_x", *by), "no registered model")
    # the version exists, but governance refuses: not the challenger; no earlier champion
    assert_clear_error(invoke("models", "approve", "energy_baseline.plant_a", "1", *by), "not the @challenger",
                       "models list")
    assert_clear_error(invoke("models", "rollback", "energy_baseline.plant_a", *by), "no previous champion")
    result = invoke("models", "list")
    assert result.exit_code == 0, result.output
    assert "energy_baseline.plant_a" in result.output


def test_simulate_writes_exports_with_a_progress_bar(home):
    result = invoke("simulate", "--start", "2026-09-07", "--days", "1")
    assert result.exit_code == 0, result.output
    assert "plant_bad skipped" in result.output  # the invalid plant does not stop the others
    assert "Simulated 1 days" in result.output
    assert any((home / "state" / "landing").rglob("*")), "no exports written"


def test_a_backfill_before_the_first_day_partition_says_to_set_history_start(home):
    result = invoke("run", "--plant", "plant_a", "--from", "2017-01-01", "--to", "2017-01-02", "--no-train")
    assert_clear_error(result, "--first-day 2017-01-01 is before the first day partition 2026-09-01", "history_start")
