"""Run the real pipeline (registry, ingest with its gates, dbt, optionally training and scoring) for one plant
over a window of days, in a subprocess with its own PLANT_ASSETS_* paths (partitions and resources read them at
import), and return the run report. Shared by the tests that onboard a plant from configuration alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

from plant_assets.core.settings import REPO_ROOT

DRIVER = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    import dagster as dg
    from plant_assets.definitions import defs
    from plant_assets.defs.run_window import run_window
    with dg.instance_for_test(temp_dir=sys.argv[1]) as instance:
        report = run_window(defs, instance, [sys.argv[2]], date.fromisoformat(sys.argv[3]),
                            date.fromisoformat(sys.argv[4]), train=sys.argv[5] == "train")
    print(json.dumps({"ingest_failures": report.ingest_failures, "gate_failures": report.gate_failures,
                      "training_failures": report.training_failures}))
    """
)


def pipeline_env(home: Path, plants: Path) -> dict[str, str]:
    return {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
            "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}


def run_pipeline(home: Path, plants: Path, plant_id: str, first: date, last: date, *, train: bool,
                 timeout: int = 900) -> dict:
    """The run report: {ingest_failures, gate_failures, training_failures} (the subprocess must succeed)."""
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(home / "dagster"), plant_id, first.isoformat(), last.isoformat(),
         "train" if train else "no-train"],
        env=pipeline_env(home, plants), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
