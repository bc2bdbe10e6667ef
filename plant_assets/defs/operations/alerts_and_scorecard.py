"""Closing the loop: motor-health, quality-drift and data-quality alerts, their automatic resolution, and the
notifier that drains the outbox."""


import dagster as dg

from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.defs.operations.assets import energy_alerts
from plant_assets.defs.partitions import day_partitions, partition_day_range
from plant_assets.defs.resources import (
    LakeResource,
    MlflowResource,
    PlantsResource,
    WarehouseResource,
)


def load_quality_champions(client, plant_ids) -> dict[str, tuple]:
    """plant_id -> (the plant's @champion quality model, its version); plants without one are left out."""
    import mlflow.lightgbm
    from ml.model_registry import CHAMPION, alias_version, registered_model_name

    from ml.templates import quality

    champions = {}
    for plant_id in plant_ids:
        name = registered_model_name(quality.TEMPLATE.name, plant_id)
        try:
            version = alias_version(client, name, CHAMPION)
        except Exception:  # no registered model yet
            version = None
        if version is not None:
            champions[plant_id] = (mlflow.lightgbm.load_model(f"models:/{name}@{CHAMPION}"), str(version))
    return champions


def raise_operational_alerts(con, configs: dict, first_day, last_day, failed_gates: set = frozenset(),
                             versions: dict | None = None, quality_models: dict | None = None,
                             checked_gates: set = frozenset()) -> dict:
    """Pure function behind `operational_alerts`: motor health, quality drift (with `quality_models`, see
    `load_quality_champions`) and failed gates -> actions.alerts (+ outbox); then resolves the alerts whose
    condition has cleared (`checked_gates`: plant-days whose gates ran, to know which passed)."""
    import pandas as pd

    from ml.templates import motor_health as motor
    from ml.templates import quality
    from plant_assets.operations.alerts.rules import (
        build_gate_alerts,
        build_motor_alerts,
        build_quality_alerts,
        gate_clear_days,
        motor_clear_days,
        quality_clear_days,
        quality_line_days,
        score_motors,
        score_quality,
    )
    from plant_assets.operations.alerts.store import (
        auto_resolve,
        ensure_tables,
        upsert_alerts,
    )

    ensure_tables(con)
    scored = score_motors(motor.read_daily(con))
    motors = build_motor_alerts(scored, configs, first_day, last_day, versions)
    gates = build_gate_alerts(failed_gates, configs)
    runs = score_quality(quality.read_runs(con), quality_models or {})
    line_days = quality_line_days(runs, configs)
    scrap = build_quality_alerts(line_days, runs, quality_models or {}, configs, first_day, last_day)
    frames = [f for f in (motors, scrap, gates) if len(f)]
    counts = upsert_alerts(con, pd.concat(frames, ignore_index=True) if frames else motors)
    clear = pd.concat([motor_clear_days(scored, configs, first_day, last_day),
                       quality_clear_days(line_days, configs, first_day, last_day),
                       gate_clear_days(checked_gates, failed_gates, configs)], ignore_index=True)
    counts["resolved"] = auto_resolve(con, clear, configs)
    return counts


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
        dg.AssetDep("quality_model", partition_mapping=dg.AllPartitionMapping()),
        dg.AssetKey(["marts", "fct_production_run"]),
        energy_alerts,
    ],
    description="Motor health alerts (yellow / red, with the trend, the driver and the champion version) for "
    "maintenance, quality-drift alerts (a line's scrap share above its quality champion's prediction beyond the "
    "plant's tolerance) for quality, and failed data-quality gates for the central data team, de-duplicated per "
    "condition into actions.alerts; alerts whose condition has cleared for alerting.auto_resolve_days resolve "
    "themselves. New, escalated and resolved alerts are queued in actions.alert_outbox.",
)
def operational_alerts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, plants: PlantsResource, lake: LakeResource,
    mlflow: MlflowResource,
) -> dg.MaterializeResult:
    import pandas as pd
    from ml.model_registry import CHAMPION, alias_version

    from plant_assets.quality.marts_metrics import failed_plant_days, ingest_gate_status

    first_day, last_day = partition_day_range(context)
    configs, _ = plants.all()
    client = mlflow.client()
    versions = {}
    for plant_id in configs:
        try:
            versions[plant_id] = alias_version(client, f"motor_health.{plant_id}", CHAMPION)
        except Exception:  # no registered model yet
            versions[plant_id] = None
    failed = failed_plant_days(lake.lake, first_day, last_day)
    status = ingest_gate_status(lake.lake, first_day, last_day)
    checked = {(r.plant_id, pd.Timestamp(r.production_date).date()) for r in status.itertuples()}
    champions = load_quality_champions(client, configs)
    with warehouse.connect() as con:
        counts = raise_operational_alerts(con, configs, first_day, last_day, failed, versions, champions, checked)
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
    from plant_assets.operations.alerts.store import deliver_outbox, webhooks

    configs, _ = plants.all()
    with warehouse.connect() as con:
        counts = deliver_outbox(con, webhooks(configs))
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


def compute_value_and_scorecard(con, lake, configs: dict, client=None) -> dict:
    """Pure function behind `energy_savings` + `rollout_scorecard`: writes actions.energy_savings,
    actions.energy_savings_monthly and actions.rollout_scorecard (whole tables, atomically)."""
    from plant_assets.operations.actions_tables import (
        ENERGY_SAVINGS,
        ENERGY_SAVINGS_MONTHLY,
        ROLLOUT_SCORECARD,
        replace_table,
    )
    from plant_assets.operations.rollout_scorecard import (
        build_savings,
        build_scorecard,
        monthly_savings,
    )

    daily = build_savings(con, configs, client)
    keep = ["plant_id", "production_date", "actual_kwh", "expected_kwh", "savings_kwh", "cumulative_savings_kwh",
            "uncertainty_kwh", "model_name", "model_version"]
    daily = daily[[c for c in keep if c in daily.columns]]
    written = {"savings_days": replace_table(con, ENERGY_SAVINGS, daily),
               "savings_months": replace_table(con, ENERGY_SAVINGS_MONTHLY, monthly_savings(daily))}
    written["scorecard_plants"] = replace_table(con, ROLLOUT_SCORECARD, build_scorecard(con, lake, configs, client))
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
