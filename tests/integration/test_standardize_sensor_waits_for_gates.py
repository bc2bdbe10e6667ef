"""The day's standardize run waits for every ingest run of the day to finish: raw_historian is materialized before
its blocking gates run (in the same run), so a sensor that only looked at materializations launched dbt over a
plant-day whose gates were still running (seen under dagster-daemon, tests/e2e/test_nightly_daemon.py)."""

from __future__ import annotations

import dagster as dg

from plant_assets.defs.automation.sensors import days_ready_for_standardize

DAY = "2026-09-09"
PLANTS = ["plant_a", "plant_b"]


def _ingested(instance: dg.DagsterInstance) -> None:
    for plant_id in PLANTS:
        instance.report_runless_asset_event(dg.AssetMaterialization("raw_historian", partition=f"{DAY}|{plant_id}"))


def _ingest_run(instance: dg.DagsterInstance, plant_id: str, status: dg.DagsterRunStatus) -> None:
    run_id = f"{len(instance.get_runs()):08d}-0000-0000-0000-000000000000"
    instance.add_run(dg.DagsterRun(job_name="ingest_plant_day", run_id=run_id, status=status,
                                   tags={"dagster/partition": f"{DAY}|{plant_id}"}))


def test_a_day_whose_ingest_run_is_still_gating_is_not_ready():
    with dg.instance_for_test() as instance:
        _ingested(instance)
        _ingest_run(instance, "plant_a", dg.DagsterRunStatus.SUCCESS)
        _ingest_run(instance, "plant_b", dg.DagsterRunStatus.STARTED)
        assert days_ready_for_standardize(instance, PLANTS) == {}


def test_the_day_is_ready_once_its_ingest_runs_ended():
    with dg.instance_for_test() as instance:
        _ingested(instance)
        for plant_id in PLANTS:
            _ingest_run(instance, plant_id, dg.DagsterRunStatus.SUCCESS)
        _ingest_run(instance, "plant_b", dg.DagsterRunStatus.FAILURE)  # an earlier attempt does not hold it
        assert list(days_ready_for_standardize(instance, PLANTS)) == [DAY]
