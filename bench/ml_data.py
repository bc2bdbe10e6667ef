"""Build the ML benchmark's data: simulate the demo plants for 28 days in a temp home and materialize the
graph up to the marts (no training, no scoring) in a subprocess, so the paths are set before any
plant_assets module is imported. `python -m bench.ml_data <home>`; the marts are then in
<home>/warehouse.duckdb and the simulator's truth in <home>/truth/."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, DAYS = date(2026, 9, 7), 28


def build(home: Path) -> Path:
    """Run the build in a subprocess (fresh environment); return the warehouse path."""
    home.mkdir(parents=True, exist_ok=True)
    warehouse = home / "warehouse.duckdb"
    if (home / "done").exists():
        return warehouse
    env = os.environ | {
        "PLANT_ASSETS_HOME": str(home),
        "PLANT_ASSETS_PLANTS": str(ROOT / "plants"),
        "PLANT_ASSETS_DUCKDB": str(warehouse),
        "PLANT_ASSETS_LAKE": str(home / "lake"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("DAGSTER_HOME", None)
    subprocess.run([sys.executable, "-m", "bench.ml_data", str(home)], cwd=ROOT, env=env, check=True)
    return warehouse


def _main(home: Path) -> None:
    import dagster as dg

    from plant_assets.core.plant_config import load_plants
    from plant_assets.core.settings import get_settings
    from plant_assets.definitions import defs
    from plant_assets.defs.run_window import run_window
    from plant_assets.simulator import simulate_plants

    settings = get_settings()
    plants = load_plants(settings.plants_dir)
    simulate_plants(plants, START, DAYS, settings.landing_dir, settings.truth_dir)
    (home / "dagster").mkdir(exist_ok=True)
    try:
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            report = run_window(defs, instance, sorted(plants), START, START + timedelta(days=DAYS - 1), train=False)
        if report.ingest_failures:
            print(f"warning: ingest failed for {sorted(report.ingest_failures)}", file=sys.stderr)
    except Exception as exc:  # e.g. a step after the marts (dbt tests, scoring): the ML marts may still be complete
        print(f"warning: the pipeline raised after building: {exc!r}", file=sys.stderr)
    import duckdb

    con = duckdb.connect(str(settings.duckdb_path), read_only=True)
    for table in ("marts.fct_line_energy_hourly", "marts.fct_production_run", "marts.fct_motor_health_daily"):
        days = con.execute(f"select count(distinct production_date) from {table}").fetchone()[0]
        if days < DAYS - 1:
            raise SystemExit(f"{table} has only {days} days: the ML benchmark needs the marts of the {DAYS}-day demo")
    con.close()
    (home / "done").write_text("ok")


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
