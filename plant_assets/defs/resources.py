"""Resources, chosen by environment (PLANT_ASSETS_ENV). The embedded default is all local files:
DuckDB, a Parquet lake and MLflow on SQLite; other environments only change these settings."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject

from plant_assets.core.plant_config import PlantConfig, load_plant, plant_folder, validate_plants
from plant_assets.core.process_identity import process_tags
from plant_assets.core.settings import get_settings
from plant_assets.core.warehouse_open import open_warehouse
from plant_assets.standardize.dbt_build import DBT_PROJECT_DIR, dbt_executable


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse. One writer at a time: writers run in the `warehouse` pool. A step outside that
    pool opens it briefly with `wait_seconds` > 0, waiting out another run's lock (core/warehouse_open.py)."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False, wait_seconds: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
        con = open_warehouse(self.path, read_only=read_only, wait_seconds=wait_seconds)
        try:
            yield con
        finally:
            con.close()


class LakeResource(dg.ConfigurableResource):
    """Root of the Parquet lake and of the plants' landing folders."""

    lake_dir: str
    landing_dir: str

    @property
    def lake(self) -> Path:
        from plant_assets.core.lake import (
            lake_root,  # a Path for a folder, a UPath for an fsspec URL
        )

        return lake_root(self.lake_dir)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)


class PlantsResource(dg.ConfigurableResource):
    """The plant configs (plants/<id>/). Loaded per use so an edited tag map is picked up."""

    plants_dir: str

    def plant(self, plant_id: str) -> PlantConfig:
        return load_plant(plant_folder(Path(self.plants_dir), plant_id))

    def all(self) -> tuple[dict[str, PlantConfig], dict[str, str]]:
        return validate_plants(Path(self.plants_dir))


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and registry. The default store is SQLite with local artifacts."""

    tracking_uri: str
    artifacts_dir: str

    def configure(self) -> None:
        import mlflow  # heavy import: only inside runs, never at definition load

        os.environ["MLFLOW_TRACKING_URI"] = self.tracking_uri
        # Every MLflow run started here carries this process's host and pid, so crash recovery can tell a
        # run left RUNNING by a dead process (plant_assets/defs/recovery.py).
        context = json.loads(os.environ.get("MLFLOW_RUN_CONTEXT") or "{}")
        os.environ["MLFLOW_RUN_CONTEXT"] = json.dumps(context | process_tags())
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)

    def client(self):
        from mlflow import MlflowClient

        self.configure()
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())


def build_resources(env: str | None = None) -> dict[str, object]:
    env = env or os.environ.get("PLANT_ASSETS_ENV", "local")
    settings = get_settings()
    settings.export_env()
    if env not in ("local", "test"):
        raise ValueError(f"unknown PLANT_ASSETS_ENV {env!r}; expected 'local' or 'test'")
    return {
        "warehouse": WarehouseResource(path=str(settings.duckdb_path)),
        "lake": LakeResource(lake_dir=str(settings.lake_dir), landing_dir=str(settings.landing_dir)),
        "plants": PlantsResource(plants_dir=str(settings.plants_dir)),
        "mlflow": MlflowResource(
            tracking_uri=settings.mlflow_tracking_uri, artifacts_dir=str(settings.mlflow_artifacts_dir)
        ),
        "dbt": dbt_cli_resource(),
    }
