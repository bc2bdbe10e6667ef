"""The scale-out check: the same simulated window run twice, on one machine (in-process, SQLite,
MLflow on SQLite) and scaled out (Dagster on PostgreSQL, Celery workers on Redis, MLflow server on
PostgreSQL), then marts.kpi_daily and the MLflow registry compared.

Each run is a subprocess (`python -m plant_assets.scaleout run`) because the code location reads
its paths and executor from the environment at import, as a worker does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import yaml

from plant_assets.core.settings import REPO_ROOT
from plant_assets.scaleout import services

CELERY_YAML = Path(__file__).with_name("celery.yaml")
KPI_KEYS = ["plant_id", "production_date", "kpi"]
WORKER_NAME = re.compile(r"plant-worker-\d+")


@dataclass
class ScaleOutResult:
    plants: list[str]
    days: int
    workers: int
    single_seconds: float = 0.0
    scale_out_seconds: float = 0.0
    services_start_seconds: float = 0.0
    kpi_rows: int = 0
    kpi_mismatches: int = -1
    registry_single: dict = field(default_factory=dict)
    registry_scale_out: dict = field(default_factory=dict)
    dagster_runs_in_postgres: int = 0
    step_failures: int = -1  # any DuckDB lock conflict between workers would show up here
    steps_per_worker: dict = field(default_factory=dict)

    @property
    def registry_differences(self) -> list[str]:
        return registry_differences(self.registry_single, self.registry_scale_out)

    @property
    def ok(self) -> bool:
        return self.kpi_rows > 0 and self.kpi_mismatches == 0 and self.step_failures == 0 and not self.registry_differences

    def as_dict(self) -> dict:
        return {**asdict(self), "registry_differences": self.registry_differences, "ok": self.ok}


def prepare_inputs(base: Path, plant_ids: list[str] | None, first_day: date, days: int) -> tuple[Path, Path, list[str]]:
    """A copy of the plant configs whose energy baseline is the window (so training has data) and
    one simulated landing folder that both runs copy."""
    from plant_assets.core.plant_config import load_plants
    from plant_assets.simulator import simulate_plants

    plants_dir = base / "plants"
    last_day = first_day + timedelta(days=days - 1)
    for source in sorted((REPO_ROOT / "plants").iterdir()):
        if source.is_dir() and (plant_ids is None or source.name in plant_ids):
            shutil.copytree(source, plants_dir / source.name)
            config_path = plants_dir / source.name / "plant.yaml"
            config = yaml.safe_load(config_path.read_text())
            config["energy_baseline"] = {"start": first_day, "end": last_day}
            config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    plants = load_plants(plants_dir)
    landing = base / "landing"
    simulate_plants(plants, first_day, days, landing, base / "truth")
    return plants_dir, landing, sorted(plants)


def home_env(home: Path, plants_dir: Path, landing: Path | None) -> dict[str, str]:
    """The environment of a temp home (landing copied in from `landing`, when given)."""
    if landing is not None:
        shutil.copytree(landing, home / "landing")
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True)
    return {
        "PLANT_ASSETS_HOME": str(home),
        "PLANT_ASSETS_PLANTS": str(plants_dir),
        "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"),
        "PLANT_ASSETS_ANALYST_DUCKDB": str(home / "analyst.duckdb"),
        "PLANT_ASSETS_EXECUTOR": "in_process",  # the scaled-out env overrides it; a caller's shell must not
        "PLANT_ASSETS_LAKE": str(home / "lake"),
        "PLANT_ASSETS_DAGSTER_STORAGE": str(home / "dagster_storage"),
        "DAGSTER_HOME": str(dagster_home),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def run_window_subprocess(mode: str, env: dict[str, str], first_day: date, last_day: date, out: Path,
                          *options: str) -> tuple[dict, str]:
    """`python -m plant_assets.scaleout run` with the home's environment: (its outcome, its stderr)."""
    cmd = [sys.executable, "-m", "plant_assets.scaleout", "run", "--mode", mode, "--first-day", first_day.isoformat(),
           "--last-day", last_day.isoformat(), "--out", str(out), *options]
    completed = subprocess.run(cmd, env=services.service_env(env), cwd=REPO_ROOT, capture_output=True, text=True)
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"{mode} run failed ({completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")
    return json.loads(out.read_text()), completed.stderr


def kpi_daily(duckdb_path: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        frame = con.sql("from marts.kpi_daily").df()
    return frame.sort_values(KPI_KEYS).reset_index(drop=True)


def kpi_mismatches(single: pd.DataFrame, scaled: pd.DataFrame) -> int:
    """Rows that differ beyond float noise (or exist on one side only)."""
    merged = single.merge(scaled, on=KPI_KEYS, how="outer", suffixes=("_1", "_n"), indicator=True)
    bad = merged["_merge"] != "both"
    for column in (c for c in single.columns if c not in KPI_KEYS):
        a, b = merged[f"{column}_1"], merged[f"{column}_n"]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            same = (a - b).abs().le(1e-9 * (1 + a.abs())) | (a.isna() & b.isna())
        else:
            same = (a.astype(str) == b.astype(str))
        bad |= ~same
    return int(bad.sum())


def registry_summary(tracking_uri: str) -> dict:
    """Per registered model: versions, aliases and the governance tag keys of each version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    summary = {}
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name='{model.name}'")
        summary[model.name] = {
            "versions": len(versions),
            "aliases": sorted(model.aliases),
            "version_tags": sorted({key for v in versions for key in v.tags}),
        }
    return dict(sorted(summary.items()))


def registry_differences(single: dict, scaled: dict) -> list[str]:
    """What differs between two registry summaries, model by model, readable in a test failure."""
    differences = [f"{name}: only in {'single' if name in single else 'scaled'}" for name in sorted(set(single) ^ set(scaled))]
    for name in sorted(set(single) & set(scaled)):
        a, b = single[name], scaled[name]
        if a["versions"] != b["versions"] or a["aliases"] != b["aliases"]:
            differences.append(f"{name}: versions/aliases {a['versions']}/{a['aliases']} vs {b['versions']}/{b['aliases']}")
        tags = set(a["version_tags"]) ^ set(b["version_tags"])
        if tags:
            differences.append(f"{name}: tags on one side only: {sorted(tags)}")
    return differences


def _postgres_facts(dagster_url: str) -> tuple[int, int, dict]:
    """How many runs and step failures the scaled-out instance recorded, and which Celery worker ran
    how many steps."""
    import psycopg2

    with psycopg2.connect(dagster_url.replace("+psycopg2", "")) as con, con.cursor() as cur:
        cur.execute("select count(*) from runs")
        runs = cur.fetchone()[0]
        cur.execute("select count(*) from event_logs where dagster_event_type = 'STEP_FAILURE'")
        failures = cur.fetchone()[0]
        cur.execute("select event from event_logs where dagster_event_type = 'ENGINE_EVENT'")
        workers: dict[str, int] = {}
        for (event,) in cur.fetchall():
            match = WORKER_NAME.search(event) if "in celery worker" in event else None
            if match:
                workers[match.group(0)] = workers.get(match.group(0), 0) + 1
    return runs, failures, dict(sorted(workers.items()))


def scale_out_check(base: Path, plant_ids: list[str] | None, first_day: date, days: int, workers: int = 2,
                    progress=print) -> ScaleOutResult:
    last_day = first_day + timedelta(days=days - 1)
    progress(f"simulating {days} day(s) from {first_day}")
    plants_dir, landing, plants = prepare_inputs(base, plant_ids, first_day, days)
    result = ScaleOutResult(plants=plants, days=days, workers=workers)

    single_env = home_env(base / "single", plants_dir, landing)
    shutil.copy(REPO_ROOT / "dagster.yaml", Path(single_env["DAGSTER_HOME"]) / "dagster.yaml")
    progress("single machine: in-process, SQLite")
    started = time.monotonic()
    run_window_subprocess("single", single_env, first_day, last_day, base / "single.json")
    result.single_seconds = round(time.monotonic() - started, 1)
    result.registry_single = registry_summary(single_env["MLFLOW_TRACKING_URI"])

    scaled_env = home_env(base / "scaled", plants_dir, landing)
    shutil.copy(REPO_ROOT / "dagster.postgres.yaml", Path(scaled_env["DAGSTER_HOME"]) / "dagster.yaml")
    with ExitStack() as stack:
        progress(f"starting PostgreSQL, Redis, MLflow server and {workers} Celery workers")
        started = time.monotonic()
        urls = stack.enter_context(services.postgres())
        broker = stack.enter_context(services.redis(base / "services"))
        scaled_env.update({
            "PLANT_ASSETS_DAGSTER_PG_URL": urls["dagster"],
            "PLANT_ASSETS_EXECUTOR": "celery",
            "PLANT_ASSETS_CELERY_BROKER": f"{broker}/0",
            "PLANT_ASSETS_CELERY_BACKEND": f"{broker}/1",
        })
        env = services.service_env(scaled_env)
        scaled_env["MLFLOW_TRACKING_URI"] = stack.enter_context(
            services.mlflow_server(base / "services", urls["mlflow"], base / "scaled" / "mlartifacts", env)
        )
        env = services.service_env(scaled_env)
        stack.enter_context(services.celery_workers(base / "services", workers, env, CELERY_YAML))
        result.services_start_seconds = round(time.monotonic() - started, 1)

        progress("scaled out: Dagster on PostgreSQL, Celery executor")
        started = time.monotonic()
        run_window_subprocess("distributed", scaled_env, first_day, last_day, base / "scaled.json")
        result.scale_out_seconds = round(time.monotonic() - started, 1)
        result.registry_scale_out = registry_summary(scaled_env["MLFLOW_TRACKING_URI"])
        result.dagster_runs_in_postgres, result.step_failures, result.steps_per_worker = _postgres_facts(urls["dagster"])

    single, scaled = kpi_daily(base / "single" / "warehouse.duckdb"), kpi_daily(base / "scaled" / "warehouse.duckdb")
    result.kpi_rows = len(single)
    result.kpi_mismatches = kpi_mismatches(single, scaled) + abs(len(single) - len(scaled))
    return result
