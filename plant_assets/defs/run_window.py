"""Materialize the nightly graph for a window of production days, in process, on a Dagster instance.

This is what `make demo` runs for the demo window and what the end-to-end test runs in a temp dir:
the same jobs the schedule and sensors launch, in dependency order, each run recorded in the
instance so the Dagster UI shows every partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from plant_assets.defs.partitions import plant_day_key
from plant_assets.defs.recovery import LOGGER, recover_after_crash, run_tags


@dataclass
class PipelineReport:
    ingest_failures: dict[str, str] = field(default_factory=dict)
    gate_failures: list[str] = field(default_factory=list)
    training_failures: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    @property
    def ok(self) -> bool:
        return not self.ingest_failures and not self.training_failures


# The actions after training: scoring, alerts, their delivery, scorecard and the analysts' copy (one run; all
# in pool `warehouse` but the notifier, which posts from the lake's due list in pool `webhooks`).
ACTION_ASSETS = (
    "energy_performance", "energy_alerts", "operational_alerts", "alert_outbox", "alert_notifier",
    "alert_deliveries", "rollout_scorecard", "analyst_warehouse",
)


def day_range(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]


def range_tags(first_day: date, last_day: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first_day.isoformat(),
        "dagster/asset_partition_range_end": last_day.isoformat(),
    }


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure or e.event_type_value == "ASSET_CHECK_EVALUATION"]
    texts = []
    for event in failures:
        if event.is_step_failure:
            texts.append(f"{event.step_key}: {event.step_failure_data.error.message.strip()}")
    return "; ".join(texts) or "run failed"


def run_window(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    plant_ids: list[str],
    first_day: date,
    last_day: date,
    train: bool = True,
    progress: Callable[[str], None] = lambda message: None,
    log_level: str = "WARNING",
    notice: Callable[[str], None] = LOGGER.warning,
) -> PipelineReport:
    report = PipelineReport()
    quiet = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    days = day_range(first_day, last_day)
    # A crash of an earlier run must not block this one (its pool slot) nor leave debris: no operator step.
    recover_after_crash(instance, notice)
    process = run_tags()  # every run names this process, so the next start can tell if it died

    progress("registry")
    defs.resolve_job_def("refresh_plant_registry").execute_in_process(instance=instance, run_config=quiet, tags=process)
    report.runs += 1

    ingest = defs.resolve_job_def("ingest_plant_day")
    for day in days:
        for plant_id in plant_ids:
            progress(f"ingest {plant_id} {day}")
            key = plant_day_key(plant_id, day)
            result = ingest.execute_in_process(
                instance=instance, partition_key=str(key), raise_on_error=False, run_config=quiet, tags=process
            )
            report.runs += 1
            checks = [
                e.asset_check_evaluation_data
                for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
            ]
            if any(not c.passed for c in checks):
                report.gate_failures.append(str(key))
            elif not result.success:
                report.ingest_failures[str(key)] = _failure_text(result)

    standardize = defs.resolve_job_def("standardize_and_act")
    dbt_keys = [k for k in standardize.asset_layer.executable_asset_keys if k.path[0] in ("seeds", "staging", "intermediate", "marts")]
    progress(f"dbt {first_day}..{last_day}")
    standardize.execute_in_process(
        instance=instance, asset_selection=dbt_keys, tags=range_tags(first_day, last_day) | process, run_config=quiet
    )
    report.runs += 1

    if train:
        training = defs.resolve_job_def("train_models")
        for plant_id in plant_ids:
            progress(f"train {plant_id}")
            result = training.execute_in_process(
                instance=instance, partition_key=plant_id, raise_on_error=False, run_config=quiet, tags=process
            )
            report.runs += 1
            if not result.success:
                report.training_failures[plant_id] = _failure_text(result)

    progress(f"score and alert {first_day}..{last_day}")
    action_keys = [dg.AssetKey(name) for name in ACTION_ASSETS]
    standardize.execute_in_process(
        instance=instance, asset_selection=action_keys, tags=range_tags(first_day, last_day) | process, run_config=quiet
    )
    report.runs += 1
    return report
