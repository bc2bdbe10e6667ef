"""ML assets, built from the use cases in ml/templates/ (ml.templates.use_cases()): per use case one asset per
plant that reads the use case's training rows, trains and registers the plant's instance in MLflow
(ml/training.py), and, when the use case has a drift monitor, the monitor's nightly asset downstream of it."""

import subprocess

import dagster as dg

from ml.drift import record_incident
from ml.use_case import DriftMonitor, Markdown, UseCase
from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.defs.partitions import plant_partitions
from plant_assets.defs.resources import (
    MlflowResource,
    PlantsResource,
    WarehouseResource,
)


def git_sha() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def plant_configs_or_fail(plants: PlantsResource, plant_id: str) -> dict:
    configs, invalid = plants.all()
    if plant_id not in configs:
        raise dg.Failure(f"plant {plant_id} has no valid config: {invalid.get(plant_id, 'folder missing')}")
    return configs


# Every ML asset: one partition per plant, run by the central team, one at a time against the warehouse.
PER_PLANT_ML_ASSET = dict(partitions_def=plant_partitions, group_name="ml", owners=[CENTRAL_TEAM], pool="warehouse")


def dagster_metadata(values: dict) -> dict:
    """A use case's plain-valued metadata, with its `Markdown` values rendered as Markdown."""
    return {key: dg.MetadataValue.md(str(value)) if isinstance(value, Markdown) else value for key, value in values.items()}


def model_asset(use_case: UseCase) -> dg.AssetsDefinition:
    """One plant's instance of the use case: trained on every plant's rows, registered as `<use case>.<plant>`."""
    facts = use_case.asset

    @dg.asset(
        name=facts.name,
        kinds=set(facts.kinds),
        **PER_PLANT_ML_ASSET,
        # A plant's model learns from every day of its training window.
        deps=[dg.AssetDep(dg.AssetKey(table.split(".")), partition_mapping=dg.AllPartitionMapping()) for table in facts.reads],
        description=facts.description,
    )
    def train_plant_model(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
    ) -> dg.MaterializeResult:
        plant_id = context.partition_key
        configs = plant_configs_or_fail(plants, plant_id)
        with warehouse.connect(read_only=True) as con:
            data = use_case.read(con, configs)
        missing = use_case.missing_data(data, configs[plant_id])
        if missing and use_case.fail_without_data:
            raise dg.Failure(missing)
        if missing:
            return dg.MaterializeResult(metadata={"skipped": missing})
        outcome = use_case.train_and_register(
            mlflow.client(), mlflow.artifacts_dir, configs[plant_id], data, use_case.fingerprint(data), git_sha()
        )
        context.log.info(f"{outcome['model_name']} v{outcome['version']}: {outcome['decision']}")
        report = use_case.report(outcome, data, plant_id, lambda: warehouse.connect(read_only=True))
        return dg.MaterializeResult(metadata=dagster_metadata(report))

    return train_plant_model


def drift_asset(use_case: UseCase, monitor: DriftMonitor, model: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The monitor's nightly check of one plant's champion; a crossed rule opens an incident and, when the plant's
    models.retrain_on_drift allows it, trains a challenger (never auto-promoted) on the monitor's rows."""
    facts = monitor.asset

    @dg.asset(
        name=facts.name,
        kinds=set(facts.kinds),
        **PER_PLANT_ML_ASSET,
        deps=[model],
        description=facts.description,
    )
    def check_plant_model_drift(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
    ) -> dg.MaterializeResult:
        plant_id = context.partition_key
        configs = plant_configs_or_fail(plants, plant_id)
        plant = configs[plant_id]
        with warehouse.connect(read_only=True) as con:
            rows = monitor.read(con, configs)
        client = mlflow.client()
        report = monitor.report(client, plant, rows[rows["plant_id"] == plant_id])
        retrained = None
        if report["crossed"]:
            with warehouse.connect() as con:
                record_incident(con, plant_id, report)
            if plant.models.retrain_on_drift:
                challenger_plant, pooled = monitor.challenger(rows, plant, configs)
                retrained = use_case.train_and_register(
                    client, mlflow.artifacts_dir, challenger_plant, pooled, use_case.fingerprint(pooled, variant="-drift"), git_sha()
                )
                context.log.warning(f"{plant_id}: drift retraining -> {retrained['model_name']} v{retrained['version']}: {retrained['decision']}")
        return dg.MaterializeResult(metadata={
            "crossed_rules": dg.MetadataValue.json(report["crossed"]),
            "feature_psi": dg.MetadataValue.json({k: round(v, 4) for k, v in report["psi"].items()}),
            "recent_performance": dg.MetadataValue.json({k: round(v, 4) for k, v in report["performance"].items()}),
            "champion": f"{report['model_name']} v{report['model_version']}",
            "retrained_challenger": str(retrained["version"]) if retrained else "none",
        })

    return check_plant_model_drift


def ml_assets(use_cases: dict[str, UseCase]) -> list[dg.AssetsDefinition]:
    """Every use case's model asset, then the drift assets of those with a monitor."""
    models = {name: model_asset(use_case) for name, use_case in use_cases.items()}
    drifts = [drift_asset(use_case, use_case.drift, models[name]) for name, use_case in use_cases.items() if use_case.drift]
    return [*models.values(), *drifts]
