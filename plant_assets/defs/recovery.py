"""Recovery by construction: whoever starts next cleans up what a crashed process left.

A run killed mid-way (kill -9, power cut, OOM) stays STARTED in the Dagster instance and keeps its slot of
pool `warehouse` forever: every later run waits on "Step blocked by limit for pool warehouse". It also
leaves an MLflow run RUNNING, maybe a half-registered model version and the publish's temp copy.

`recover_after_crash` runs at the start of every CLI run (run_window) and every few minutes in the daemon
(sensor `crash_recovery`). A run is dead when the process that runs it is gone: runs started in process carry
the host, pid and pid start time as tags (`run_tags`); runs launched by the daemon are found by the pid
their run worker reports ("Started process for run"), on a single-host (SQLite) instance. Dead runs are
marked failed and their concurrency slots freed; slots still held by finished runs are freed too. Runs on
another host, or without a known pid, are left to Dagster's run monitoring (dagster.yaml `run_monitoring`).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ml.crash_recovery import recover_mlflow
from plant_assets.core.process_identity import HOST_TAG, PID_TAG, is_alive, pid_alive, process_tags
from plant_assets.core.settings import get_settings
from plant_assets.standardize.analyst_copy import stale_publish_temps

LOGGER = logging.getLogger("plant_assets.recovery")
# A run that may have a live process: its status says it runs (or is about to) and nothing will change it.
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
WORKER_STARTED = "Started process for run"


@dataclass
class Recovery:
    failed_runs: dict[str, list[str]] = field(default_factory=dict)  # run id -> pools whose slots it held
    freed_runs: dict[str, list[str]] = field(default_factory=dict)   # finished runs that still held slots
    removed_files: list[str] = field(default_factory=list)
    failed_mlflow_runs: list[str] = field(default_factory=list)
    deleted_model_versions: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return any((self.failed_runs, self.freed_runs, self.removed_files, self.failed_mlflow_runs,
                    self.deleted_model_versions))


def run_tags() -> dict[str, str]:
    """Tags for a run executed in this process, so a later start can tell whether it is still alive."""
    return process_tags()


def _is_single_host(instance: dg.DagsterInstance) -> bool:
    return type(instance.run_storage).__name__.startswith("Sqlite")


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid the daemon-launched run worker reported when it started, if any."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if event and (event.message or "").startswith(WORKER_STARTED):
            pid = event.engine_event_data.metadata.get("pid")
            if pid is not None and str(pid.value).isdigit():
                return int(pid.value)
    return None


def run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[str, bool | None]:
    """The run's process ("host pid N") and whether it is alive: None when it cannot be checked from here."""
    if HOST_TAG in run.tags and PID_TAG in run.tags:
        return f"{run.tags[HOST_TAG]} pid {run.tags[PID_TAG]}", is_alive(dict(run.tags))
    pid = _worker_pid(instance, run.run_id) if _is_single_host(instance) else None
    if pid is None:
        return "unknown", None
    return f"{socket.gethostname()} pid {pid} (run worker)", pid_alive(pid)


def _pools_by_run(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Every run that holds a concurrency slot or waits for one, and the pools concerned."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    pools: dict[str, set[str]] = {}
    for key, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        for holder in [*info.claimed_slots, *info.pending_steps]:
            pools.setdefault(holder.run_id, set()).add(key)
    return {run_id: sorted(keys) for run_id, keys in pools.items()}


def recover_dead_runs(instance: dg.DagsterInstance, log: Callable[[str], None]) -> Recovery:
    recovery = Recovery()
    pools = _pools_by_run(instance)
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        where, alive = run_process(instance, run)
        if alive is not False:
            continue
        instance.report_run_failed(run, f"process {where} is gone (crash or kill): marked failed by crash recovery")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovery.failed_runs[run.run_id] = pools.get(run.run_id, [])
        log(f"recovered run {run.run_id} ({run.job_name}, process {where} gone): marked failed, freed pool(s) "
            f"{', '.join(pools.get(run.run_id, [])) or 'none'}")
    holders = [run_id for run_id in pools if run_id not in recovery.failed_runs]
    finished = {r.dagster_run.run_id for r in instance.get_run_records(
        dg.RunsFilter(run_ids=holders, statuses=FINISHED)
    )} if holders else set()
    for run_id in sorted(finished):
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        recovery.freed_runs[run_id] = pools[run_id]
        log(f"recovered run {run_id} (finished, still held a slot): freed pool(s) {', '.join(pools[run_id])}")
    return recovery


def recover_debris(recovery: Recovery, log: Callable[[str], None]) -> None:
    """The publish's temp copies and MLflow's runs and versions left by a dead process."""
    settings = get_settings()
    for path in stale_publish_temps(settings.analyst_duckdb_path, pid_alive):
        path.unlink(missing_ok=True)
        recovery.removed_files.append(str(path))
        log(f"removed {path}: temp copy of a publish whose process is gone")
    uri = settings.mlflow_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return  # no MLflow store yet: nothing trained, nothing to clean (and no store created for it)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    cleaned = recover_mlflow(client, is_alive, "process gone (crash or kill): marked FAILED by crash recovery")
    recovery.failed_mlflow_runs, recovery.deleted_model_versions = cleaned.failed_runs, cleaned.deleted_versions
    for run_id in cleaned.failed_runs:
        log(f"marked MLflow run {run_id} FAILED: its process is gone")
    for version in cleaned.deleted_versions:
        log(f"deleted model version {version}: registered by a training that died before tagging it")


def recover_after_crash(instance: dg.DagsterInstance, log: Callable[[str], None] = LOGGER.warning) -> Recovery:
    """Fail dead runs and free their slots, then clear the debris of dead processes. Safe while other runs
    are alive: only what a dead process owns is touched."""
    recovery = recover_dead_runs(instance, log)
    recover_debris(recovery, log)
    return recovery
