"""Crash recovery: `plant-assets run` (one demo plant, 5 days, training included) killed with SIGKILL at named
steps (dbt writing the warehouse, training right after MLflow registered its version, the publish with its temp
copy on disk), each time simply started again; the final state is compared with an uninterrupted run in another
home. Figures: seconds per kill and re-run, and what differs (nothing is the target). Quick: the training kill
only. The reduced version is tests/e2e/test_crash_recovery.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from plant_assets.core.settings import REPO_ROOT

FIRST, LAST = "2026-09-07", "2026-09-11"
KILL_POINTS = ("dbt", "training.registered", "publish.copied")
CLI = "from plant_assets.cli import app; app()"
RECOVERY_LINES = ("recovered run", "removed ", "marked MLflow run", "deleted model version")


def _home(root: Path) -> tuple[Path, dict[str, str]]:
    home, plants = root / "home", root / "plants"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", plants / "plant_a")
    config = yaml.safe_load((plants / "plant_a" / "plant.yaml").read_text())
    config["energy_baseline"] = {"start": FIRST, "end": "2026-09-10"}
    # an energy waste on the last day, after the baseline: alerts to compare too
    config["simulation"]["faults"] = [{"type": "energy_waste", "start_day": 5, "end_day": 5, "base_load_factor": 2.5}]
    (plants / "plant_a" / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "dagster_home").mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANT_ASSETS_", "MLFLOW_", "DAGSTER_"))}
    env |= {"PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants), "DAGSTER_HOME": str(root / "dagster_home"),
            "PLANT_ASSETS_DAGSTER_STORAGE": str(root / "dagster_storage"), "PYTHONPATH": str(REPO_ROOT),
            "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    return home, env


def _cli(env: dict[str, str], *args: str, crash_at: str | None = None) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, *args], env=env | ({"PLANT_ASSETS_CRASH_AT": crash_at} if crash_at else {}),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, start_new_session=True)
    return done.returncode, time.perf_counter() - started, done.stdout


def _state(home: Path, env: dict[str, str]) -> dict:
    """What must equal an uninterrupted run: KPIs, alerts, live model versions; and what must be empty."""
    with duckdb.connect(str(home / "analyst.duckdb"), read_only=True) as con:
        kpis = [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in row)
                for row in con.execute("select * from marts.kpi_daily order by all").fetchall()]
        alerts = con.execute("select plant_id, production_date, asset_path, kind, severity, status, revision "
                             "from actions.alerts order by all").fetchall()
    from mlflow import MlflowClient

    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    versions = {m.name: len(client.search_model_versions(f"name = '{m.name}'")) for m in client.search_registered_models()}
    experiments = [e.experiment_id for e in client.search_experiments()]
    running = len(client.search_runs(experiments, "attributes.status = 'RUNNING'")) if experiments else 0
    return {"kpis": kpis, "alerts": alerts, "versions": versions, "running_mlflow_runs": running,
            "temp_files": sorted(p.name for p in home.glob(".analyst.duckdb.*"))}


def run(quick: bool = False) -> str:
    points = ("training.registered",) if quick else KILL_POINTS
    run_args = ("run", "--from", FIRST, "--to", LAST, "--plant", "plant_a")
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        reference_home, reference_env = _home(Path(tmp) / "reference")
        crashed_home, crashed_env = _home(Path(tmp) / "crashed")
        for env in (reference_env, crashed_env):
            assert _cli(env, "simulate", "--start", FIRST, "--days", "5")[0] == 0
        code, reference_seconds, _ = _cli(reference_env, *run_args)
        assert code == 0, "the uninterrupted run failed"
        rows = []
        for point in points:
            code, seconds, _ = _cli(crashed_env, *run_args, crash_at=point)
            rows.append(f"| killed at `{point}` | {'SIGKILL' if code == -9 else f'exit {code} (not killed!)'} | {seconds:.0f} s |")
        code, seconds, out = _cli(crashed_env, *run_args)
        recovered = sum(line.startswith(RECOVERY_LINES) for line in out.splitlines())
        rows.append(f"| re-run, no manual step | {'completed' if code == 0 else f'FAILED (exit {code})'}, "
                    f"{recovered} recovery line(s) | {seconds:.0f} s |")
        reference, crashed = _state(reference_home, reference_env), _state(crashed_home, crashed_env)
    differs = [key for key in reference if reference[key] != crashed[key]]
    return "\n".join([
        "## Crash recovery (kill -9 during the nightly, re-run with no manual step)", "",
        f"One demo plant (plant_a), {FIRST}..{LAST}, training included; uninterrupted reference run "
        f"{reference_seconds:.0f} s.", "",
        "| step | outcome | wall time |", "|---|---|---|", *rows, "",
        f"Compared with the uninterrupted run: KPIs ({len(reference['kpis'])} rows), alerts "
        f"({len(reference['alerts'])}), live model versions {reference['versions']}, MLflow runs left RUNNING "
        f"({crashed['running_mlflow_runs']}), publish temp files ({len(crashed['temp_files'])}): "
        + ("**identical**." if not differs else f"**differ: {', '.join(differs)}** (crashed: "
           f"{ {k: crashed[k] for k in differs if k != 'kpis'} })."),
    ])
