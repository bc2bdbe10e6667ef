"""A run killed while it holds the `warehouse` pool's slot (kill -9, power cut) must not block the next run:
the next start marks it failed and frees its slot (plant_assets/defs/recovery.py), with no operator step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData  # what the run worker reports, as it reports it

from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.recovery import recover_dead_runs

HOLDER = """
import sys, time
from pathlib import Path
import dagster as dg
from plant_assets.defs.recovery import run_tags

@dg.op(pool="warehouse")
def write_warehouse():
    Path(sys.argv[1]).write_text("holding the slot")
    time.sleep(600)

@dg.job
def holder():
    write_warehouse()

holder.execute_in_process(instance=dg.DagsterInstance.get(), tags=run_tags())
"""

NEXT_RUN = """
import dagster as dg

@dg.op(pool="warehouse")
def write_warehouse():
    return 1

@dg.job
def next_run():
    write_warehouse()

assert next_run.execute_in_process(instance=dg.DagsterInstance.get()).success
print("next run done")
"""


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    """An instance configured like the product's (dagster.yaml: SQLite storage, pool `warehouse` limit 1)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    return home


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(home), "PLANT_ASSETS_DAGSTER_STORAGE": str(home / "storage"),
            "PYTHONPATH": str(REPO_ROOT)}


def _kill_while_holding_the_slot(home: Path, tmp_path: Path) -> int:
    flag = tmp_path / "holding"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(flag)], env=_env(home), cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert holder.poll() is None and time.monotonic() < deadline, "the holder run never reached its op"
        time.sleep(0.1)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    return holder.pid


def test_a_killed_run_is_failed_and_its_slot_freed(dagster_home: Path, tmp_path: Path, monkeypatch):
    pid = _kill_while_holding_the_slot(dagster_home, tmp_path)
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", str(dagster_home / "storage"))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [dead] = instance.get_runs()
        assert dead.status == dg.DagsterRunStatus.STARTED
        assert [s.run_id for s in instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots] == [dead.run_id]
        lines: list[str] = []
        recovery = recover_dead_runs(instance, lines.append)

        assert recovery.failed_runs == {dead.run_id: ["warehouse"]}
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
        assert len(lines) == 1 and dead.run_id in lines[0] and "warehouse" in lines[0] and str(pid) in lines[0]
        # a second start finds nothing left to do
        assert not recover_dead_runs(instance, lines.append).anything

    done = subprocess.run([sys.executable, "-c", NEXT_RUN], env=_env(dagster_home), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "next run done" in done.stdout, done.stderr[-3000:]


def test_a_live_run_is_left_alone(dagster_home: Path, monkeypatch):
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", str(dagster_home / "storage"))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        from plant_assets.defs.recovery import run_tags

        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job(), tags=run_tags())
        instance.handle_run_event(run.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_START", job_name=run.job_name, message="start"))
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert not recover_dead_runs(instance, print).anything
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


def test_the_daemon_sensor_recovers_a_killed_run(dagster_home: Path, tmp_path: Path, monkeypatch):
    from plant_assets.defs.automation.recovery_sensor import crash_recovery

    _kill_while_holding_the_slot(dagster_home, tmp_path)
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", str(dagster_home / "storage"))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result = crash_recovery(dg.build_sensor_context(instance=instance))
        assert result.skip_message.startswith("recovered 1 dead run(s)")
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
        assert crash_recovery(dg.build_sensor_context(instance=instance)).skip_message == "no dead run and no debris"


def test_a_daemon_run_whose_worker_died_is_found_by_the_pid_it_reported(dagster_home: Path, monkeypatch):
    """Runs the daemon launches carry no tags of ours: their run worker reports its pid when it starts."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", str(dagster_home / "storage"))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job())
        instance.handle_run_event(run.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_START", job_name=run.job_name, message="start"))
        instance.report_engine_event(f"Started process for run (pid: {gone.pid}).", run,
                                     EngineEventData.in_process(gone.pid))
        recovery = recover_dead_runs(instance, print)
        assert list(recovery.failed_runs) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE


def test_a_finished_run_that_still_holds_a_slot_releases_it(dagster_home: Path, tmp_path: Path, monkeypatch):
    """The probe's manual attempt: marking the dead run failed by hand does not free its slot; the next start does."""
    _kill_while_holding_the_slot(dagster_home, tmp_path)
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", str(dagster_home / "storage"))
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [dead] = instance.get_runs()
        instance.report_run_failed(dead, "marked failed by hand")
        assert len(instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots) == 1
        recovery = recover_dead_runs(instance, print)
        assert recovery.freed_runs == {dead.run_id: ["warehouse"]} and recovery.failed_runs == {}
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
