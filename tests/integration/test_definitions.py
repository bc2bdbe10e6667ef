"""The code location loads, and its asset graph, partitions, checks, schedule and sensors are what users see."""

import dagster as dg
import pytest


@pytest.fixture(scope="module")
def defs():
    from plant_assets.definitions import defs

    return defs


def test_definitions_validate(defs):
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_by_stage(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in (
        "raw_historian", "raw_production_runs", "raw_downtime_events", "plant_registry",
        "staging/stg_historian__readings", "marts/kpi_daily", "marts/dim_kpi", "marts/fct_production_run",
        "marts/fct_line_energy_hourly", "marts/data_quality_incidents", "energy_baseline_model",
        "motor_health_model", "quality_model", "energy_model_drift", "energy_performance", "energy_alerts",
        "analyst_warehouse",
    ):
        assert expected in keys, expected
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert {"ingest", "standardize", "ml", "operations"} <= groups
    # Lineage: the KPI marts are built from ingested data; scoring depends on marts and models.
    ancestors, frontier = set(), {dg.AssetKey(["marts", "kpi_daily"])}
    while frontier:
        parents = set().union(*(graph.get(k).parent_keys for k in frontier if graph.has(k))) - ancestors
        ancestors |= parents
        frontier = parents
    assert {dg.AssetKey("raw_historian"), dg.AssetKey("plant_registry")} <= ancestors
    perf_parents = graph.get(dg.AssetKey("energy_performance")).parent_keys
    assert {dg.AssetKey("energy_baseline_model"), dg.AssetKey(["marts", "fct_line_energy_hourly"])} <= perf_parents


def test_partitions(defs):
    graph = defs.resolve_asset_graph()
    ingest = graph.get(dg.AssetKey("raw_historian")).partitions_def
    assert isinstance(ingest, dg.MultiPartitionsDefinition)
    assert {d.name for d in ingest.partitions_defs} == {"day", "plant"}
    plants = [d for d in ingest.partitions_defs if d.name == "plant"][0].partitions_def.get_partition_keys()
    assert set(plants) >= {"plant_a", "plant_b", "plant_c"}
    assert isinstance(graph.get(dg.AssetKey(["marts", "kpi_daily"])).partitions_def, dg.DailyPartitionsDefinition)
    assert isinstance(graph.get(dg.AssetKey("energy_baseline_model")).partitions_def, dg.StaticPartitionsDefinition)


def test_blocking_gates_on_every_layer(defs):
    graph = defs.resolve_asset_graph()
    checks = {c.name: c for c in (graph.get_check_spec(key) for key in graph.asset_check_keys)}
    for name, asset in (
        ("raw_historian_gate", dg.AssetKey("raw_historian")),
        ("canonical_signals_gate", dg.AssetKey("raw_historian")),
        ("marts_kpi_gate", dg.AssetKey(["marts", "kpi_daily"])),
    ):
        assert checks[name].asset_key == asset and checks[name].blocking, name
    assert not checks["exports_are_fresh"].blocking


def test_schedule_and_sensors(defs):
    schedule = defs.resolve_schedule_def("nightly_ingest_schedule")
    assert schedule.job_name == "ingest_plant_day" and schedule.cron_schedule == "15 * * * *"
    assert defs.resolve_sensor_def("new_export_files_sensor").job_name == "ingest_plant_day"
    assert defs.resolve_sensor_def("standardize_when_day_ingested").job_name == "standardize_and_act"


def test_schedule_evaluates_to_one_run_per_plant(defs):
    from datetime import datetime, timezone

    schedule = defs.resolve_schedule_def("nightly_ingest_schedule")
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 9, 10, 7, 15, tzinfo=timezone.utc),
            repository_def=defs.get_repository_def(),
        )
        requests = schedule.evaluate_tick(context).run_requests
    assert sorted(r.partition_key for r in requests) == ["2026-09-09|plant_a", "2026-09-09|plant_b", "2026-09-09|plant_c"]


def test_a_later_tick_skips_plant_days_already_launched(defs):
    """Dagster's own run-key check for a schedule only covers runs of the same tick: the next hourly tick asked
    for the same plant-days again (found under dagster-daemon, tests/e2e/test_nightly_daemon.py)."""
    from datetime import datetime, timezone

    schedule = defs.resolve_schedule_def("nightly_ingest_schedule")
    with dg.instance_for_test() as instance:

        def tick(at: datetime):
            context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                                repository_def=defs.get_repository_def())
            return schedule.evaluate_tick(context)

        first = tick(datetime(2026, 9, 10, 7, 15, tzinfo=timezone.utc)).run_requests
        launched = first[0]  # plant_a's day has a run (here recorded as the daemon records it), the others not yet
        instance.add_run(dg.DagsterRun(job_name="ingest_plant_day", run_id="0" * 36,
                                       tags={"dagster/run_key": launched.run_key, **launched.tags}))
        second = tick(datetime(2026, 9, 10, 8, 15, tzinfo=timezone.utc))
        assert sorted(r.partition_key for r in second.run_requests) == ["2026-09-09|plant_b", "2026-09-09|plant_c"]
        for run in first[1:]:
            instance.add_run(dg.DagsterRun(job_name="ingest_plant_day", run_id=f"{len(instance.get_runs()):036d}",
                                           tags={"dagster/run_key": run.run_key}))
        third = tick(datetime(2026, 9, 10, 9, 15, tzinfo=timezone.utc))
        assert not third.run_requests and "already" in third.skip_message
