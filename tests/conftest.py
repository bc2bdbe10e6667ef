"""Test session state: a temp PLANT_ASSETS_HOME and a copy of the demo plants, set up before any
plant_assets module is imported (partitions and resources read the environment at import)."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]

# The end-to-end window: 12 days, an 8-day energy baseline and its own fault scenario per plant (the demo's
# plant.yaml faults are replaced; a fault of the same type in the demo lends its other settings):
# plant_a: labeler scrap drift on days 4-6, waste on a low-output day 8 and an efficiency improvement from day 9
# (savings to measure); plant_b: energy waste on days 9-10 (after the baseline); plant_c: a motor degrading
# from day 3 to a failure on day 11.
E2E_START = date(2026, 9, 7)
E2E_DAYS = 12
E2E_BASELINE_END = date(2026, 9, 14)
E2E_FAULTS = {
    "plant_a": [
        {"type": "scrap_drift", "start_day": 4, "end_day": 6},
        {"type": "low_output_waste", "start_day": 8, "end_day": 8, "output_factor": 0.7, "base_load_factor": 2.0},
        {"type": "efficiency_improvement", "start_day": 9, "base_load_factor": 0.7, "run_load_factor": 0.8},
    ],
    "plant_b": [{"type": "energy_waste", "start_day": 9, "end_day": 10}],
    "plant_c": [{"type": "motor_degradation", "onset_day": 3, "failure_day": 11}],
}

SESSION_HOME = Path(tempfile.mkdtemp(prefix="plant-assets-tests-"))


def _e2e_plants(target: Path) -> Path:
    shutil.copytree(REPO_ROOT / "plants", target)
    for plant_yaml in target.glob("*/plant.yaml"):
        config = yaml.safe_load(plant_yaml.read_text())
        config["energy_baseline"] = {"start": E2E_START, "end": E2E_BASELINE_END}
        simulation = config.get("simulation") or {}
        demo_faults = {fault["type"]: fault for fault in simulation.get("faults", [])}
        simulation["faults"] = [
            {**demo_faults.get(fault["type"], {}), **fault} for fault in E2E_FAULTS.get(config["plant_id"], [])
        ]
        plant_yaml.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


os.environ.update(
    {
        "PLANT_ASSETS_HOME": str(SESSION_HOME),
        "PLANT_ASSETS_PLANTS": str(_e2e_plants(SESSION_HOME / "plants")),
        "PLANT_ASSETS_DUCKDB": str(SESSION_HOME / "warehouse.duckdb"),
        "PLANT_ASSETS_LAKE": str(SESSION_HOME / "lake"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{SESSION_HOME / 'mlflow.db'}",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # rich wraps CLI output at the terminal width: the same width whatever runs the tests (a tty, CI, xdist)
        "COLUMNS": "200",
    }
)
os.environ.pop("DAGSTER_HOME", None)


# Markers by folder, so a test cannot trigger the e2e pipeline (or a browser, or the scale-out services)
# without carrying the marker that `make test-fast` deselects.
FOLDER_MARKERS = {"e2e": ("e2e",), "browser": ("e2e", "browser")}


# `make test` runs the suite as two pytest processes side by side (marker second_process, and the rest): the
# second takes every test of the session's demo run (one pipeline run shared by them) and these modules, so both
# take about the same time (measured: the demo run's tests 5 min, these 4 min plus the crash test's 80 s, the
# rest 8.5 min).
SECOND_PROCESS_MODULES = {"test_energy_only_baseline", "test_historian_only_plant", "test_real_plants", "test_crash_recovery",
                          "test_nightly_daemon"}


def pytest_collection_modifyitems(config, items):
    """Mark by folder and by process; tests that inject faults into the shared e2e state run after every test
    that reads it."""
    for item in items:
        if "e2e_run" in getattr(item, "fixturenames", ()) or Path(str(item.fspath)).stem in SECOND_PROCESS_MODULES:
            item.add_marker("second_process")
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT / "tests").parts
        for folder in parts[:-1]:
            for marker in FOLDER_MARKERS.get(folder, ()):
                if item.get_closest_marker(marker) is None:
                    item.add_marker(marker)
    items.sort(key=lambda item: item.get_closest_marker("mutates_session") is not None)


def skip_for_missing_tool(reason: str) -> None:
    """Skip a test whose tool (browser, PostgreSQL, Redis) is missing, unless PLANT_ASSETS_REQUIRE_TOOLS=1: CI
    (.ci/run) installs every such tool itself, so there a skip would hide a broken install and fails instead."""
    if os.environ.get("PLANT_ASSETS_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (PLANT_ASSETS_REQUIRE_TOOLS=1: CI installs this tool, a skip is a failure)", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION_HOME, ignore_errors=True)
