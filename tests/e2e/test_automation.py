"""Schedule and sensors against a real instance and the simulated landing folders."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from plant_assets.defs.automation.sensors import (
    STABLE_SECONDS,
    days_ready_for_standardize,
    scan_new_exports,
)

pytestmark = pytest.mark.e2e


def test_days_already_standardized_are_not_rerun(e2e_run):
    # read right after the window's run: later tests re-ingest days, in whatever order they run
    assert e2e_run["ready_after_run"] == {}


def test_a_reingested_day_is_ready_again_but_only_once_all_plants_have_it(e2e_run):
    from plant_assets.definitions import defs
    from plant_assets.defs.partitions import plant_day_key

    instance, day = e2e_run["instance"], e2e_run["last_day"]
    plants = sorted(e2e_run["plants"])
    # days a mutating test before this one (a backfill from the UI) left ready; none in file order
    before = set(days_ready_for_standardize(instance, plants))
    result = defs.resolve_job_def("ingest_plant_day").execute_in_process(
        instance=instance, partition_key=str(plant_day_key("plant_c", day))
    )
    assert result.success
    assert set(days_ready_for_standardize(instance, plants)) == before | {str(day)}
    assert days_ready_for_standardize(instance, plants + ["plant_not_ingested"]) == {}

    from plant_assets.definitions import defs as definitions

    sensor = definitions.resolve_sensor_def("standardize_when_day_ingested")
    context = dg.build_sensor_context(instance=instance, repository_def=definitions.get_repository_def())
    requests = {r.partition_key: r for r in sensor.evaluate_tick(context).run_requests}
    assert set(requests) == before | {str(day)}
    assert requests[str(day)].run_key.startswith(f"standardize:{day}:")


def test_new_file_sensor_requests_each_plant_day_once_and_again_on_redelivery(e2e_run):
    plants, landing = e2e_run["plants"], e2e_run["settings"].landing_dir
    later = time.time() + STABLE_SECONDS + 1
    due, seen = scan_new_exports(plants, landing, {}, later)
    n_days = (e2e_run["last_day"] - e2e_run["first_day"]).days + 1
    assert len(due) == 3 * n_days
    assert scan_new_exports(plants, landing, seen, later)[0] == {}

    redelivered = plants["plant_b"].landing_path(landing) / plants["plant_b"].historian.file_pattern.format(
        date=e2e_run["first_day"]
    )
    os.utime(redelivered, (later, later))
    due, _ = scan_new_exports(plants, landing, seen, later + STABLE_SECONDS + 1)
    assert list(due) == [("plant_b", e2e_run["first_day"])]


def test_a_file_still_being_written_is_not_read(e2e_run):
    plants, landing = e2e_run["plants"], e2e_run["settings"].landing_dir
    fresh = plants["plant_a"].landing_path(landing) / plants["plant_a"].historian.file_pattern.format(
        date=e2e_run["last_day"]
    )
    now = time.time()
    os.utime(fresh, (now, now))
    due, seen = scan_new_exports(plants, landing, {}, now)
    assert fresh.name not in due.get(("plant_a", e2e_run["last_day"]), [])
    assert f"plant_a/{fresh.name}" not in seen  # so the next tick looks at it again
