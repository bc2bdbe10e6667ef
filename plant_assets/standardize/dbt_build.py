"""How the pipeline invokes dbt (no Dagster here): the project folder, manifest freshness, build arguments and vars."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from plant_assets.core.settings import REPO_ROOT, get_settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def ensure_manifest(manifest: Path = MANIFEST_PATH) -> Path:
    """Parse the dbt project when its manifest is missing or older than any of its sources."""
    sources = [p for p in _source_files() if p.suffix in {".sql", ".yml", ".yaml", ".csv"}]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        get_settings().export_env()
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env=os.environ.copy(),
        )
    return manifest


# dbt's own output folders: never sources, and target/ grows by one folder per invocation (seconds to walk).
_NOT_SOURCES = {"target", "logs", "dbt_packages"}


def _source_files() -> list[Path]:
    files = []
    for entry in DBT_PROJECT_DIR.iterdir():
        if entry.is_file():
            files.append(entry)
        elif entry.is_dir() and entry.name not in _NOT_SOURCES:
            files.extend(p for p in entry.rglob("*") if p.is_file())
    return files


def dbt_vars_for_days(first_day: date, last_day: date) -> dict[str, str]:
    """The production-day range an incremental dbt run rebuilds (inclusive)."""
    if last_day < first_day:
        raise ValueError(f"empty day range {first_day}..{last_day}")
    return {"min_date": first_day.isoformat(), "max_date": last_day.isoformat()}


def dbt_build_args(first_day: date, last_day: date, include_unit_tests: bool = False) -> list[str]:
    args = ["build", "--vars", json.dumps(dbt_vars_for_days(first_day, last_day))]
    if not include_unit_tests:  # unit tests prove the KPI formulas in CI, not every night
        args += ["--exclude-resource-type", "unit_test"]
    return args


def days_of_window(start, end) -> tuple[date, date]:
    """A Dagster partition time window [start, end) as an inclusive day range."""
    return start.date(), (end - timedelta(days=1)).date()
