"""Run the nightly graph for a window on the scaled-out instance: the same jobs, order and tags as
plant_assets.defs.run_window.run_window, but launched with `execute_job` on the DAGSTER_HOME instance
(PostgreSQL), so each run is recorded there and its steps go to the configured executor (Celery).

Plant-day ingest runs are launched concurrently, one orchestrating process each (Dagster's run
logging is per process, not thread-safe): their steps write Parquet only and spread over the
workers. dbt, training and the actions are in pool `warehouse` and queue for its one slot (the alert
notifier, which never opens the warehouse, is in pool `webhooks`).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

import dagster as dg

from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.partitions import plant_day_key
from plant_assets.defs.run_window import (
    ACTION_ASSETS,
    PipelineReport,
    day_range,
    range_tags,
)

DBT_GROUPS = ("seeds", "staging", "intermediate", "marts")


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    gate_failed: bool
    failure: str


def launch(job_name: str, tags: dict | None = None, selection: list[dg.AssetKey] | None = None) -> RunOutcome:
    """One run through the instance, orchestrated here; its steps run wherever the executor sends them."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repo = ReconstructableRepository.for_module("plant_assets.definitions", "defs", working_directory=str(REPO_ROOT))
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(repo.get_reconstructable_job(job_name), instance=instance, tags=tags, asset_selection=selection)
        checks = [e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        failures = [f"{e.step_key}: {e.step_failure_data.error.message.strip()}" for e in result.all_events if e.is_step_failure]
        return RunOutcome(result.success, any(not c.passed for c in checks), "; ".join(failures) or ("" if result.success else "run failed"))


def _launch_args(args: tuple) -> RunOutcome:
    return launch(*args)


def run_window_distributed(
    plant_ids: list[str], first_day: date, last_day: date, train: bool = True, parallel_runs: int = 4
) -> PipelineReport:
    from plant_assets.definitions import defs

    report = PipelineReport()
    launch("refresh_plant_registry")
    report.runs += 1
    orchestrators = ProcessPoolExecutor(parallel_runs, mp_context=multiprocessing.get_context("spawn"))
    with orchestrators:
        ingest = defs.resolve_job_def("ingest_plant_day")
        keys = [str(plant_day_key(plant_id, day)) for day in day_range(first_day, last_day) for plant_id in plant_ids]
        outcomes = list(orchestrators.map(_launch_args, [(ingest.name, ingest.get_tags_for_partition_key(k, None)) for k in keys]))
        report.runs += len(outcomes)
        for key, outcome in zip(keys, outcomes):
            if outcome.gate_failed:
                report.gate_failures.append(key)
            elif not outcome.success:
                report.ingest_failures[key] = outcome.failure

        standardize = defs.resolve_job_def("standardize_and_act")
        dbt_keys = [k for k in standardize.asset_layer.executable_asset_keys if k.path[0] in DBT_GROUPS]
        launch(standardize.name, range_tags(first_day, last_day), dbt_keys)
        report.runs += 1

        if train:
            training = defs.resolve_job_def("train_models")
            args = [(training.name, training.get_tags_for_partition_key(p, None)) for p in plant_ids]
            outcomes = list(orchestrators.map(_launch_args, args))
            report.runs += len(outcomes)
            for plant_id, outcome in zip(plant_ids, outcomes):
                if not outcome.success:
                    report.training_failures[plant_id] = outcome.failure

    launch(standardize.name, range_tags(first_day, last_day), [dg.AssetKey(name) for name in ACTION_ASSETS])
    report.runs += 1
    return report
