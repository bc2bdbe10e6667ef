"""A power cut during the nightly needs no engineer: `plant-assets run` killed with SIGKILL (its whole process
group, as a power cut would) at three points in turn, each time simply started again: between the files of an
ingested partition, while dbt writes the warehouse (holding the `warehouse` pool), and while the analysts' publish
holds the pool and has its temp copy on disk. The last start completes, publishes the same KPIs and alerts as the
uninterrupted dbt and action steps computed, and leaves no temp file and no run holding the pool
(plant_assets/defs/recovery.py); the analysts' file never exists half-written.
Reduced to keep `make test` short: one demo plant, 2 days, no training (four runs, ~110 s).
Training killed mid-registration: tests/integration/test_crash_recovery_mlflow.py; a run killed holding the
pool: tests/integration/test_crash_recovery_runs.py; more kill points and the nightly with training:
bench/bench_crash.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from plant_assets.core.settings import REPO_ROOT

FIRST, LAST = "2026-09-07", "2026-09-08"
CLI = "from plant_assets.cli import app; app()"
ALERT_COLUMNS = "alert_id, plant_id, production_date, asset_path, kind, severity, status, revision, evidence"


def _home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home, plants = tmp_path / "home", tmp_path / "plants"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", plants / "plant_a")
    config = yaml.safe_load((plants / "plant_a" / "plant.yaml").read_text())
    config["energy_baseline"] = {"start": FIRST, "end": LAST}
    (plants / "plant_a" / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")  # pools as in production
    env = {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}", "DAGSTER_HOME": str(dagster_home),
           "PLANT_ASSETS_DAGSTER_STORAGE": str(tmp_path / "dagster_storage"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PLANT_ASSETS_CRASH_AT", None)
    return home, env


def _cli(env: dict[str, str], *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**env, **({"PLANT_ASSETS_CRASH_AT": crash_at} if crash_at else {})}
    # its own session: the crash point kills the whole group (dbt's subprocess too), never pytest
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=240, start_new_session=True)


def _run(env: dict[str, str], crash_at: str | None = None) -> subprocess.CompletedProcess:
    return _cli(env, "run", "--from", FIRST, "--to", LAST, "--plant", "plant_a", "--no-train", crash_at=crash_at)


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _kpis(path: Path) -> list[tuple]:
    """KPI rows, values to 9 significant digits: DuckDB's parallel sums may differ in the last bits."""
    return [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in row)
            for row in _rows(path, "select * from marts.kpi_daily order by all")]


def _analyst_file_is_whole(home: Path) -> bool:
    """Absent (nothing published yet) or openable with every table of a published state."""
    path = home / "analyst.duckdb"
    if not path.exists():
        return True
    return _rows(path, "select count(*) from marts.kpi_daily")[0][0] > 0


def test_the_nightly_recovers_from_kill_9_without_an_operator(tmp_path: Path, monkeypatch):
    home, env = _home(tmp_path)
    assert _cli(env, "simulate", "--start", FIRST, "--days", "2").returncode == 0

    during_ingest = _run(env, crash_at="ingest.accepted_written")
    assert during_ingest.returncode == -9, during_ingest.stdout[-2000:] + during_ingest.stderr[-2000:]
    assert _analyst_file_is_whole(home)

    during_dbt = _run(env, crash_at="dbt")
    assert during_dbt.returncode == -9, during_dbt.stdout[-2000:] + during_dbt.stderr[-2000:]
    assert "recovered run" in during_dbt.stdout.replace("\n", "")  # the run killed while ingesting
    assert _analyst_file_is_whole(home)

    during_publish = _run(env, crash_at="publish.copied")
    assert during_publish.returncode == -9, during_publish.stdout[-2000:] + during_publish.stderr[-2000:]
    # the run killed in dbt held the warehouse pool: released at this start, or this run would have blocked
    assert "freed pool(s) warehouse" in during_publish.stdout.replace("\n", "")
    [temp] = list(home.glob(".analyst.duckdb.*.tmp"))
    assert _analyst_file_is_whole(home)
    # what the uninterrupted dbt and action steps of that run computed, before the publish was killed
    kpis = _kpis(home / "warehouse.duckdb")
    alerts = _rows(home / "warehouse.duckdb", f"select {ALERT_COLUMNS} from actions.alerts order by all")
    assert len(kpis) > 20 and {row[0] for row in kpis} == {"plant_a"}

    again = _run(env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    recovered = again.stdout.replace("\n", "")
    assert "recovered run" in recovered and "freed pool(s) warehouse" in recovered and f"removed {temp}" in recovered
    assert not temp.exists() and list(home.glob(".analyst.duckdb.*")) == []
    assert _kpis(home / "analyst.duckdb") == kpis
    assert _rows(home / "warehouse.duckdb", f"select {ALERT_COLUMNS} from actions.alerts order by all") == alerts
    # every ingested partition is whole again: its readings, quarantine and reconciliation files
    lake = home / "lake"
    assert len(list((lake / "raw").rglob("readings.parquet"))) == 2
    for kind in ("quarantine", "reconciliation"):
        assert len(list((lake / kind).rglob("historian.parquet"))) == 2, kind
    assert [p for p in lake.rglob("*") if p.name.endswith(".tmp")] == []

    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", env["PLANT_ASSETS_DAGSTER_STORAGE"])
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        statuses = [run.status for run in instance.get_runs()]
        assert statuses.count(dg.DagsterRunStatus.FAILURE) == 3 and dg.DagsterRunStatus.STARTED not in statuses
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
