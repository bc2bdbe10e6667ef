"""Operations assets: champion scoring against the energy baseline, alerts with an owner and a next step (the
rules in `operations/alerts/rules/`), their delivery, and the measured value with the rollout scorecard."""


import dagster as dg
import pandas as pd

from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.defs.partitions import day_partitions, partition_day_range
from plant_assets.defs.resources import (
    LakeResource,
    MlflowResource,
    PlantsResource,
    WarehouseResource,
)
from plant_assets.operations.actions_tables import ENERGY_PERFORMANCE, replace_days
from plant_assets.operations.alerts.evaluation import raise_and_resolve
from plant_assets.operations.alerts.outbox import send_rows, webhooks
from plant_assets.operations.alerts.outbox_handoff import apply_outcomes, read_due, write_outcomes
from plant_assets.operations.alerts.rules import rules_for
from plant_assets.operations.alerts.rules.base import ENERGY, OPERATIONAL, RuleInputs
from plant_assets.operations.alerts.rules.motor_health import motor_champion_versions
from plant_assets.operations.alerts.rules.quality_drift import load_quality_champions
from plant_assets.operations.energy_scoring import daily_performance
from plant_assets.operations.rollout_scorecard import write_savings_and_scorecard
from plant_assets.quality.marts_metrics import failed_plant_days, ingest_gate_status


@dg.asset(
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="operations",
    kinds={"python", "duckdb", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[
        dg.AssetKey(["marts", "fct_line_energy_hourly"]),
        dg.AssetDep("energy_baseline_model", partition_mapping=dg.AllPartitionMapping()),
    ],
    description="Each plant-day's actual energy against its champion energy baseline (ISO 50006 EnPI): "
    "expected kWh = sum of the champion's hourly predictions; deviation = actual / expected - 1. "
    "Table actions.energy_performance.",
)
def energy_performance(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    mlflow: MlflowResource,
    plants: PlantsResource,
    lake: LakeResource,
) -> dg.MaterializeResult:
    import mlflow.lightgbm as mlflow_lightgbm

    from ml.explain import daily_drivers
    from ml.model_registry import CHAMPION, alias_version, registered_model_name
    from ml.templates import energy_baseline as template

    first_day, last_day = partition_day_range(context)
    configs, _ = plants.all()
    client = mlflow.client()
    with warehouse.connect(read_only=True) as con:
        hours = template.read_plant_hours(con, configs, first_day, last_day)
    # Blocking checks do not reach Python assets across runs: skip plant-days with a failed gate here.
    gated_out = failed_plant_days(lake.lake, first_day, last_day)
    if gated_out and len(hours):
        keys = list(zip(hours["plant_id"], pd.to_datetime(hours["production_date"]).dt.date))
        hours = hours[[key not in gated_out for key in keys]]
    frames, skipped = [], {}
    for plant_id, plant_hours in hours.groupby("plant_id"):
        if plant_id not in configs:
            skipped[plant_id] = "no valid config"
            continue
        name = registered_model_name(template.TEMPLATE.name, plant_id)
        version = alias_version(client, name, CHAMPION)
        if version is None:
            skipped[plant_id] = f"no @{CHAMPION} for {name} yet"
            continue
        model = mlflow_lightgbm.load_model(f"models:/{name}@{CHAMPION}")
        rows = template.rows_for(model, plant_hours)  # at the champion's grain, with the variables it kept
        expected = template.predict(model, rows)
        drivers = daily_drivers(model, rows, template.model_features(model))
        frames.append(daily_performance(rows, expected, configs[plant_id], name, version, drivers))
    performance = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    with warehouse.connect() as con:
        written = replace_days(con, ENERGY_PERFORMANCE, performance, first_day, last_day)
    for plant_id, why in skipped.items():
        context.log.warning(f"{plant_id} not scored: {why}")
    preview = (
        performance[["plant_id", "production_date", "actual_kwh_per_unit", "expected_kwh_per_unit", "deviation"]]
        .round(4)
        .to_markdown(index=False)
        if len(performance)
        else "nothing scored"
    )
    trend = ""
    if len(performance):
        from ml.plots import energy_intensity_trend, markdown_image

        trend = markdown_image(energy_intensity_trend(performance), "energy vs baseline (kWh per unit, or per day without units)")
    return dg.MaterializeResult(
        metadata={
            "energy_trend": dg.MetadataValue.md(trend or "nothing scored"),
            "scored_plant_days": dg.MetadataValue.int(written),
            "skipped_plants": dg.MetadataValue.json(skipped),
            "skipped_by_failed_gates": dg.MetadataValue.json(sorted(f"{p} {d}" for p, d in gated_out)),
            "preview": dg.MetadataValue.md(preview),
            "dagster/row_count": dg.MetadataValue.int(written),
        }
    )


@dg.asset(
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="operations",
    kinds={"python", "duckdb"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[energy_performance],
    description="Alerts with plant, asset (ISA-95 path), severity, owner role and a recommended action when a "
    "plant-day's energy per unit exceeds its baseline expectation beyond the plant's tolerance. Table actions.alerts.",
)
def energy_alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, plants: PlantsResource):
    first_day, last_day = partition_day_range(context)
    configs, _ = plants.all()
    with warehouse.connect() as con:
        # Upsert, not replace: acknowledgements survive re-runs; new alerts go to the outbox in the same transaction.
        # Days back within tolerance resolve the plant's open energy alerts (alerting.auto_resolve_days in a row).
        counts, alerts = raise_and_resolve(RuleInputs(con, configs, first_day, last_day), rules_for(ENERGY))
    written = len(alerts)
    preview = alerts[["plant_id", "production_date", "severity", "title"]].to_markdown(index=False) if written else "no alerts"
    return dg.MaterializeResult(
        metadata={"alerts": dg.MetadataValue.int(written), "outbox": dg.MetadataValue.json(counts),
                  "preview": dg.MetadataValue.md(preview)}
    )


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
    first_day, last_day = partition_day_range(context)
    configs, _ = plants.all()
    client = mlflow.client()
    versions = motor_champion_versions(client, configs)
    failed = failed_plant_days(lake.lake, first_day, last_day)
    status = ingest_gate_status(lake.lake, first_day, last_day)
    checked = {(r.plant_id, pd.Timestamp(r.production_date).date()) for r in status.itertuples()}
    champions = load_quality_champions(client, configs)
    with warehouse.connect() as con:
        inputs = RuleInputs(con, configs, first_day, last_day, failed_gates=failed, checked_gates=checked,
                            motor_versions=versions, quality_models=champions)
        counts, _ = raise_and_resolve(inputs, rules_for(OPERATIONAL))
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


@dg.asset(
    group_name="operations",
    kinds={"python", "duckdb", "parquet"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[energy_alerts, operational_alerts],
    description="Hands actions.alert_outbox to the notifier through the lake: applies the delivery outcomes "
    "not yet recorded, then writes the open rows to <lake>/actions/alert_outbox/due.parquet.",
)
def alert_outbox(warehouse: WarehouseResource, lake: LakeResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        counts = apply_outcomes(con, lake.lake)
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


@dg.asset(
    group_name="operations",
    kinds={"python", "parquet"},
    owners=[CENTRAL_TEAM],
    # Its own pool (limit 1: one notifier at a time) and no warehouse: it waits on the network, never on
    # DuckDB's one-writer lock, and never holds the `warehouse` slot while it waits.
    pool="webhooks",
    deps=[alert_outbox],
    description="Posts each due alert (the lake's due list, less what an earlier call already delivered) as "
    "JSON to the plant's webhook (Idempotency-Key = alert_id:revision) with retries and exponential backoff, "
    "each POST within a deadline and the call within a time budget; only hosts in "
    "PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS are contacted. Writes the outcomes to "
    "<lake>/actions/alert_outbox/outcomes/; `alert_deliveries` records them in actions.alert_outbox.",
)
def alert_notifier(lake: LakeResource, plants: PlantsResource) -> dg.MaterializeResult:
    configs, _ = plants.all()
    outcomes, counts = send_rows(read_due(lake.lake), webhooks(configs))
    write_outcomes(lake.lake, outcomes)
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


@dg.asset(
    group_name="operations",
    kinds={"python", "duckdb", "parquet"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[alert_notifier],
    description="Records the notifier's outcomes (delivered, pending with the next try, rejected, refused) in "
    "actions.alert_outbox in one transaction and writes the due list afresh, so the analysts' copy published "
    "after it shows tonight's delivery status.",
)
def alert_deliveries(warehouse: WarehouseResource, lake: LakeResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        counts = apply_outcomes(con, lake.lake)
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in counts.items()})


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
        written = write_savings_and_scorecard(con, lake.lake, configs, mlflow.client())
    return dg.MaterializeResult(metadata={k: dg.MetadataValue.int(v) for k, v in written.items()})
