"""The Dagster executor, chosen by environment (PLANT_ASSETS_EXECUTOR), so a scaled-out deployment
runs the same definitions with no code change.

in_process (default)  every step in the run's own process: the embedded single-machine setup
multiprocess          one subprocess per step on the run's host
celery                steps become Celery tasks on a broker (PLANT_ASSETS_CELERY_BROKER, e.g.
                      redis://127.0.0.1:6379/0; results on PLANT_ASSETS_CELERY_BACKEND), picked up by
                      `dagster-celery worker start` processes on any host with this code and
                      DAGSTER_HOME. Needs the `scale` extra.

Per-plant steps (ingest) write Parquet only, so they run on any worker in parallel; every DuckDB
user is in pool `warehouse`, whose limit of 1 the instance (PostgreSQL) enforces across workers.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTORS = ("in_process", "multiprocess", "celery")


def executor_from_env() -> dg.ExecutorDefinition:
    choice = os.environ.get("PLANT_ASSETS_EXECUTOR", "in_process")
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "multiprocess":
        return dg.multiprocess_executor
    if choice == "celery":
        from dagster_celery import (
            celery_executor,  # optional extra: import only when chosen
        )

        return celery_executor.configured(
            {
                "broker": {"env": "PLANT_ASSETS_CELERY_BROKER"},
                "backend": {"env": "PLANT_ASSETS_CELERY_BACKEND"},
            },
            name="celery",
        )
    raise ValueError(f"unknown PLANT_ASSETS_EXECUTOR {choice!r}; expected one of {', '.join(EXECUTORS)}")
