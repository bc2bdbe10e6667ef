"""Closing the loop: motor-health and data-quality alerts, and the notifier that drains the outbox."""


import dagster as dg

from plant_assets.defs.ingest.assets import CENTRAL_TEAM
from plant_assets.defs.operations.assets import _day_range, energy_alerts
from plant_assets.partitions import day_partitions
from plant_assets.resources import LakeResource, MlflowResource, PlantsResource, WarehouseResource


def raise_operational_alerts(con, configs: dict, first_day, last_day, failed_gates: set = frozenset(),
                             versions: dict | None = None) -> dict:
    """Pure function behind `operational_alerts`: motor health and failed gates -> actions.alerts (+ outbox)."""
    from ml.templates import motor_health as motor
    from plant_assets.alert_rules import build_gate_alerts, build_motor_alerts, score_motors
    from plant_assets.alerting import ensure_tables, upsert_alerts

    import pandas as pd

    ensure_tables(con)
    scored = score_motors(motor.read_daily(con))
    motors = build_motor_alerts(scored, configs, first_day, last_day, versions)
    gates = build_gate_alerts(failed_gates, configs)
    candidates = pd.concat([f for f in (motors, gates) if len(f)], ignore_index=True) if len(motors) or len(gates) else motors
    return upsert_alerts(con, candidates)


@dg.asset(
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="operations",
    kinds={"python", "duckdb"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[
        dg.AssetKey(["marts", "fct_motor_health_daily"]),
        dg.AssetDep("motor_health_model", partition_mapping=dg.AllPartitionMapping()),
        energy_alerts,
    ],
    description="Motor health alerts (yellow / red, with the trend, the driver and the champion version) for "
    "maintenance, and failed data-quality gates for the central data team, de-duplicated per condition into "
    "actions.alerts; new and escalated alerts are queued in actions.alert_outbox.",
)
def operational_alerts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, plants: PlantsResource, lake: LakeResource,
    mlflow: MlflowResource,
) -> dg.MaterializeResult:
    from ml.registry import CHAMPION, alias_version
    from plant_assets.gates.marts_metrics import failed_plant_days

    first_day, last_day = _day_range(context)
    configs, _ = plants.all()
    client = mlflow.client()
    versions = {}
    for plant_id in configs:
        try:
            versions[plant_id] = alias_version(client, f"motor_health.{plant_id}", CHAMPION)
        except Exception:  # no registered model yet
            versions[plant_id] = None
    failed = failed_plant_days(lake.lake, first_day, last_day)
    with warehouse.connect() as con:
        counts = raise_operational_alerts(con, configs, first_day, last_day, failed, versions)
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


@dg.asset(
    group_name="operations",
    kinds={"python", "duckdb"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[energy_alerts, operational_alerts],
    description="Drains actions.alert_outbox: posts each new or escalated alert as JSON to the plant's webhook "
    "(Idempotency-Key = alert_id:revision) with retries and exponential backoff; undelivered rows stay queued.",
)
def alert_notifier(warehouse: WarehouseResource, plants: PlantsResource) -> dg.MaterializeResult:
    from plant_assets.alerting import deliver_outbox, webhooks

    configs, _ = plants.all()
    with warehouse.connect() as con:
        counts = deliver_outbox(con, webhooks(configs))
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


def compute_value_and_scorecard(con, lake, configs: dict, client=None) -> dict:
    """Pure function behind `energy_savings` + `rollout_scorecard`: writes actions.energy_savings,
    actions.energy_savings_monthly and actions.rollout_scorecard (whole tables, atomically)."""
    from plant_assets.scorecard import (
        SAVINGS_TABLE, SCORECARD_TABLE, build_savings, build_scorecard, monthly_savings, write_table,
    )

    daily = build_savings(con, configs, client)
    keep = ["plant_id", "production_date", "actual_kwh", "expected_kwh", "savings_kwh", "cumulative_savings_kwh",
            "uncertainty_kwh", "model_name", "model_version"]
    daily = daily[[c for c in keep if c in daily.columns]]
    written = {"savings_days": write_table(con, SAVINGS_TABLE, daily),
               "savings_months": write_table(con, SAVINGS_TABLE + "_monthly", monthly_savings(daily))}
    written["scorecard_plants"] = write_table(con, SCORECARD_TABLE, build_scorecard(con, lake, configs, client))
    return written


@dg.asset(
    group_name="operations",
    kinds={"python", "duckdb", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[dg.AssetKey("energy_performance"), operational_alerts],
    description="Measured value and the rollout scorecard: IPMVP avoided energy per plant and month "
    "(champion baseline under reporting-period conditions - actual, cumulative, 95 % band; only from a champion "
    "that passed validation) in actions.energy_savings(_monthly), and one row per plant in "
    "actions.rollout_scorecard (onboarding, coverage, quarantine, gates, model adjustment, time to improvement, "
    "alert acknowledgement).",
)
def rollout_scorecard(
    warehouse: WarehouseResource, plants: PlantsResource, lake: LakeResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    configs, _ = plants.all()
    with warehouse.connect() as con:
        written = compute_value_and_scorecard(con, lake.lake, configs, mlflow.client())
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in written.items()})
