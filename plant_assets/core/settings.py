"""Where plant-assets keeps its state. Every path comes from one environment variable with a default.

PLANT_ASSETS_HOME     state root (landing, lake, warehouse, MLflow, Dagster storage); default ./.state
PLANT_ASSETS_PLANTS   folder of plant configs (plants/<id>/); default <repo>/plants
PLANT_ASSETS_DUCKDB   the DuckDB warehouse file, shared by the dbt profile and Dagster
PLANT_ASSETS_LAKE     the Parquet lake, read by dbt sources and written by ingest; a folder or an fsspec
                      URL (docs/scaling.md says which readers follow a URL)
PLANT_ASSETS_ANALYST_DUCKDB  the analysts' read-only copy of the warehouse; default <home>/analyst.duckdb
MLFLOW_TRACKING_URI   MLflow tracking store; default sqlite:///<home>/mlflow.db
PLANT_ASSETS_EXECUTOR in_process (default), multiprocess or celery (plant_assets/defs/executor.py)
PLANT_ASSETS_INGEST_MEMORY  DuckDB memory cap of one parsing or gate connection (default 1GB); beyond it DuckDB
                      spills to <home>/tmp/duckdb_spill, so an export of any size parses in bounded memory
PLANT_ASSETS_DBT_MEMORY  DuckDB memory cap of the dbt build (default 2GB; beyond it dbt's DuckDB spills to
                      <warehouse>.tmp)
PLANT_ASSETS_SPOOL    where parsers spool their Parquet output before it moves into the lake (default: the
                      system temp dir; the same file system as the lake makes the move a rename)
PLANT_ASSETS_NIGHTLY_CRON  the nightly schedule's cron in UTC (default 15 * * * *); PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS
                      how often the standardize sensor looks (default 120) (docs/operations.md)
PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS  hosts the alert notifier may post to, comma-separated (`*.example.com`
                      allows sub-domains); default loopback only: 127.0.0.1,localhost,::1 (core/webhook_hosts.py)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    home: Path
    plants_dir: Path
    duckdb_path: Path
    lake_dir: Path
    mlflow_tracking_uri: str

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def truth_dir(self) -> Path:
        return self.home / "truth"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def analyst_duckdb_path(self) -> Path:
        """The read-only analyst copy of the warehouse (PLANT_ASSETS_ANALYST_DUCKDB, default
        <home>/analyst.duckdb), replaced by atomic rename after each successful build."""
        return Path(os.environ.get("PLANT_ASSETS_ANALYST_DUCKDB", self.home / "analyst.duckdb")).resolve()

    def export_env(self) -> None:
        """Make subprocesses (dbt) see the same paths as this process."""
        os.environ["PLANT_ASSETS_HOME"] = str(self.home)
        os.environ["PLANT_ASSETS_PLANTS"] = str(self.plants_dir)
        os.environ["PLANT_ASSETS_DUCKDB"] = str(self.duckdb_path)
        os.environ["PLANT_ASSETS_LAKE"] = str(self.lake_dir)
        os.environ["MLFLOW_TRACKING_URI"] = self.mlflow_tracking_uri


def get_settings() -> Settings:
    home = Path(os.environ.get("PLANT_ASSETS_HOME", Path.cwd() / ".state")).resolve()
    plants = Path(os.environ.get("PLANT_ASSETS_PLANTS", REPO_ROOT / "plants")).resolve()
    duckdb_path = Path(os.environ.get("PLANT_ASSETS_DUCKDB", home / "warehouse.duckdb")).resolve()
    lake_env = os.environ.get("PLANT_ASSETS_LAKE", str(home / "lake"))
    if "://" in lake_env:  # an fsspec URL (s3://, memory://): object storage by configuration
        from plant_assets.core.lake import lake_root

        lake = lake_root(lake_env)
        lake = lake.resolve() if isinstance(lake, Path) else lake
    else:
        lake = Path(lake_env).resolve()
    tracking = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    return Settings(home, plants, duckdb_path, lake, tracking)


def work_connection(ordered: bool = True) -> "duckdb.DuckDBPyConnection":
    """A parsing or gate connection (work_duckdb_config) without DuckDB's progress bar, which it would draw on
    stdout, into Dagster's captured logs, for any query over ~2 s (it cannot be set at connect)."""
    import duckdb

    con = duckdb.connect(config=work_duckdb_config(ordered))
    con.execute("SET enable_progress_bar = false")
    return con


def work_duckdb_config(ordered: bool = True) -> dict[str, str]:
    """Settings of a parsing or gate connection: a memory cap and a place to spill beyond it (module doc).
    ordered=False lets DuckDB drop row order where the result does not depend on it (less memory)."""
    spill = get_settings().home / "tmp" / "duckdb_spill"
    spill.parent.mkdir(parents=True, exist_ok=True)  # DuckDB creates the last level only, when it first spills
    config = {"memory_limit": os.environ.get("PLANT_ASSETS_INGEST_MEMORY", "1GB"), "temp_directory": str(spill)}
    return config if ordered else {**config, "preserve_insertion_order": "false"}
