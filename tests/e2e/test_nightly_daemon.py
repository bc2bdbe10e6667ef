"""The nightly on the path users run: `dagster-daemon run` with the repo's dagster.yaml (run queue, 4 concurrent
runs, a new process per run) and workspace.yaml, two small plants, the day the schedule asks for at the real now.

The schedule ticks every minute (PLANT_ASSETS_NIGHTLY_CRON) and is recorded as running since just before the
last minute began, as after a daemon restart: the daemon's first iteration evaluates that missed tick at once
(Dagster catches up only the latest tick of an asset job's schedule), and the next minute's tick asks for the same
plant-days again while the day's runs go on. The standardize sensor looks every 5 s
(PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS) instead of 120 s. On main every tick launched the plant-days again
(Dagster's run-key check for a schedule only covers runs of the same tick) and the sensor re-ran the day after
each of them. The plants' registry tables are written
before the daemon starts, as onboarding a plant does (refresh_plant_registry)."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import yaml

from plant_assets.core.settings import REPO_ROOT

# Both plants in one time zone: the day's standardize run waits for every plant's day, and plants in other zones
# complete theirs at other hours.
TIME_ZONE = "Europe/Berlin"
PLANTS = ("plant_a", "plant_b")
TICKS = 2  # the missed one and the next minute's
CRON = "* * * * *"
TIMEOUT_SECONDS = 240


def asked_day(tick: datetime) -> date:
    """The nightly's contract (README): a plant's previous local day, once it ended an hour ago in its zone."""
    return (tick.astimezone(ZoneInfo(TIME_ZONE)) - timedelta(hours=1)).date() - timedelta(days=1)


def _home(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    home, plants = tmp_path / "home", tmp_path / "plants"
    for plant_id in PLANTS:
        shutil.copytree(REPO_ROOT / "plants" / plant_id, plants / plant_id)
        config = yaml.safe_load((plants / plant_id / "plant.yaml").read_text())
        config["timezone"] = TIME_ZONE
        config["simulation"]["faults"] = []
        (plants / plant_id / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    dagster_home = tmp_path / "dagster_home"
    env = {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "PLANT_ASSETS_ANALYST_DUCKDB": str(home / "analyst.duckdb"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}", "DAGSTER_HOME": str(dagster_home),
           "PLANT_ASSETS_DAGSTER_STORAGE": str(tmp_path / "dagster_storage"), "PYTHONPATH": str(REPO_ROOT),
           "PLANT_ASSETS_NIGHTLY_CRON": CRON, "PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS": "5"}
    for name in ("PLANT_ASSETS_CRASH_AT", "PYTEST_CURRENT_TEST", "PLANT_ASSETS_EXECUTOR"):
        env.pop(name, None)
    return home, plants, env


def _exports_and_registry(home: Path, plants_dir: Path, days: set[date]) -> None:
    from plant_assets.core.lake import registry_path, write_table_atomic
    from plant_assets.core.plant_config import load_plants
    from plant_assets.ingest.plant_tables import registry_tables
    from plant_assets.simulator import simulate_plants

    plants = load_plants(plants_dir)
    simulate_plants(plants, min(days), (max(days) - min(days)).days + 1, home / "landing", home / "truth")
    for name, table in registry_tables(plants).items():
        write_table_atomic(table, registry_path(home / "lake", name))


def _runs(instance: dg.DagsterInstance, job: str) -> list[dg.DagsterRun]:
    return [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name=job))]


def test_the_nightly_tick_under_dagster_daemon_runs_each_plant_day_once(tmp_path: Path, monkeypatch):
    from dagster._core.scheduler.instigation import TickStatus

    from plant_assets.scaleout.daemon import Daemon, start_schedule_at, write_dagster_yaml

    home, plants_dir, env = _home(tmp_path)
    now = datetime.now(timezone.utc)
    since = now.replace(second=0, microsecond=0) - timedelta(seconds=1)
    # every day a tick of this test may ask for (one, unless the day turns within these minutes)
    candidates = {asked_day(since + timedelta(minutes=k)) for k in range(TIMEOUT_SECONDS // 60 + 2)}
    _exports_and_registry(home, plants_dir, candidates)
    write_dagster_yaml(Path(env["DAGSTER_HOME"]), dequeue_interval_seconds=1)
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", env["PLANT_ASSETS_DAGSTER_STORAGE"])

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        start_schedule_at(instance, "nightly_ingest_schedule", CRON, since.timestamp())
        [state] = [s for s in instance.all_instigator_state() if s.instigator_name == "nightly_ingest_schedule"]
        with Daemon(env, tmp_path / "daemon.log") as daemon:
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while True:
                assert daemon.alive(), (tmp_path / "daemon.log").read_text()[-5000:]
                ticks = [t for t in instance.get_ticks(state.instigator_origin_id, state.selector_id)
                         if t.status in (TickStatus.SUCCESS, TickStatus.SKIPPED)]
                ingests, standardizes = _runs(instance, "ingest_plant_day"), _runs(instance, "standardize_and_act")
                days = {asked_day(datetime.fromtimestamp(t.timestamp, timezone.utc)) for t in ticks}
                finished = [r for r in standardizes if r.is_finished]
                if (len(ticks) >= TICKS and len(ingests) >= len(PLANTS) * len(days)
                        and all(r.is_finished for r in ingests) and len(finished) >= len(days)):
                    # one more look of the sensor after the day's KPIs are built: it must not launch the day again
                    last_end = max(instance.get_run_record_by_id(r.run_id).end_time for r in finished)
                    sensor = [s for s in instance.all_instigator_state()
                              if s.instigator_name == "standardize_when_day_ingested"]
                    if any(t.timestamp > last_end + 1 for s in sensor
                           for t in instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=1)):
                        break
                assert time.monotonic() < deadline, (
                    f"not done in {TIMEOUT_SECONDS} s: {len(ticks)} ticks, ingest runs "
                    f"{[(r.tags.get('dagster/partition'), r.status.value) for r in ingests]}, standardize runs "
                    f"{[(r.tags.get('dagster/partition'), r.status.value) for r in standardizes]}\n"
                    + (tmp_path / "daemon.log").read_text()[-5000:])
                time.sleep(1)

        ticks = [t for t in instance.get_ticks(state.instigator_origin_id, state.selector_id)
                 if t.status in (TickStatus.SUCCESS, TickStatus.SKIPPED)]
        asked = {(p, asked_day(datetime.fromtimestamp(t.timestamp, timezone.utc)).isoformat()) for t in ticks for p in PLANTS}
        ingests = _runs(instance, "ingest_plant_day")
        launched = sorted((r.tags["plant_id"], r.tags["production_date"]) for r in ingests)
        # every plant-day the ticks asked for, launched exactly once and ingested, however many ticks asked
        assert launched == sorted(asked), launched
        assert {r.status for r in ingests} == {dg.DagsterRunStatus.SUCCESS}
        assert all(r.tags.get("dagster/schedule_name") == "nightly_ingest_schedule" for r in ingests)
        assert sum(len(t.run_ids) for t in ticks) == len(asked)
        # the day's dbt and actions: launched once by the sensor when both plants had the day, and succeeded
        standardizes = _runs(instance, "standardize_and_act")
        assert sorted(r.tags["dagster/partition"] for r in standardizes) == sorted({day for _, day in asked})
        assert {r.status for r in standardizes} == {dg.DagsterRunStatus.SUCCESS}
        assert all(r.tags.get("dagster/sensor_name") == "standardize_when_day_ingested" for r in standardizes)
        # ... and only after every ingest run of the day had finished: raw_historian is materialized before its
        # gates run, and on main the sensor launched dbt while the gates of the day were still running
        ingest_ends = [instance.get_run_record_by_id(r.run_id).end_time for r in ingests]
        for run in standardizes:
            assert instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp() >= max(ingest_ends)
