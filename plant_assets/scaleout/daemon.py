"""The nightly as users run it: `dagster-daemon run` on a DAGSTER_HOME holding the repo's dagster.yaml
(QueuedRunCoordinator, 4 concurrent runs, a new process per run) and the repo's workspace.yaml, in a temp home.
Used by tests/e2e/test_nightly_daemon.py and bench/bench_nightly_daemon.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from plant_assets.core.settings import REPO_ROOT

WORKSPACE = REPO_ROOT / "workspace.yaml"


def write_dagster_yaml(dagster_home: Path, dequeue_interval_seconds: float | None = None) -> Path:
    """The repo's dagster.yaml in `dagster_home`; a test may dequeue more often than the default 5 s."""
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    if dequeue_interval_seconds is not None:
        config["run_coordinator"] = {**config["run_coordinator"],
                                     "config": {"dequeue_interval_seconds": dequeue_interval_seconds}}
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Daemon:
    """`dagster-daemon run -w workspace.yaml` in its own session, so that stopping it also stops its code
    server and every run worker it launched (one process group). Run with this interpreter: the schedule
    state recorded by `start_schedule_at` names the code location by its executable."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(WORKSPACE)],
            env=env, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        stop_process_group(self.proc)
        self._log.close()

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_schedule_at(instance, schedule_name: str, cron: str, start_timestamp: float) -> None:
    """Record `schedule_name` as running since `start_timestamp`, as after a daemon restart: the daemon's first
    iteration then evaluates every tick since then (Dagster catches up to 5), each at its own scheduled time.
    Without it, a schedule on by default starts at the daemon's first iteration and ticks at the next cron time."""
    from dagster._core.remote_origin import RemoteInstigatorOrigin, RemoteRepositoryOrigin
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
    )
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    [location] = location_origins_from_yaml_paths([str(WORKSPACE)])
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), schedule_name)
    instance.add_instigator_state(InstigatorState(origin, InstigatorType.SCHEDULE, InstigatorStatus.RUNNING,
                                                  ScheduleInstigatorData(cron, start_timestamp)))


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True and everything it started (run workers, code
    servers): SIGTERM to its group, SIGKILL after 20 s, and SIGKILL to the group once the leader is gone."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:  # the leader is gone; its children must not outlive it
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        break
