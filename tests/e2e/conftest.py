from __future__ import annotations

import json
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from tests.conftest import E2E_DAYS, E2E_START, SESSION_HOME


@pytest.fixture(scope="session")
def e2e_run():
    """Simulate the demo plants for the e2e window and materialize the whole graph once."""
    from plant_assets.core.plant_config import load_plants
    from plant_assets.core.settings import get_settings
    from plant_assets.definitions import defs
    from plant_assets.defs.automation.sensors import days_ready_for_standardize
    from plant_assets.defs.run_window import run_window
    from plant_assets.simulator import simulate_plants

    settings = get_settings()
    plants = load_plants(settings.plants_dir)
    simulate_plants(plants, E2E_START, E2E_DAYS, settings.landing_dir, settings.truth_dir)
    last_day = E2E_START + timedelta(days=E2E_DAYS - 1)
    (SESSION_HOME / "dagster").mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(SESSION_HOME / "dagster")) as instance:
        report = run_window(defs, instance, sorted(plants), E2E_START, last_day)
        yield {
            # what the standardize sensor found right after the run, before any test re-ingests a day
            "ready_after_run": days_ready_for_standardize(instance, sorted(plants)),
            "report": report,
            "instance": instance,
            "settings": settings,
            "plants": plants,
            "truth_daily": pd.read_csv(settings.truth_dir / "daily.csv", parse_dates=["production_date"]),
            "faults": json.loads((settings.truth_dir / "faults.json").read_text()),
            "first_day": E2E_START,
            "last_day": last_day,
        }
