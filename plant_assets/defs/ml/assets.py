"""ML: the common energy baseline template, calibrated per plant and registered in MLflow."""


import hashlib
import json
import subprocess

import dagster as dg
import pandas as pd

from plant_assets.core.owners import CENTRAL_TEAM
from plant_assets.core.warehouse import read_line_energy_hourly
from plant_assets.defs.partitions import plant_partitions
from plant_assets.defs.resources import (
    MlflowResource,
    PlantsResource,
    WarehouseResource,
)

ENERGY_USE_CASE = "energy_baseline"


def _git_sha() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fingerprint(frame: pd.DataFrame, template_version: str) -> str:
    digest = hashlib.sha256(template_version.encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def baseline_frames(hourly: pd.DataFrame, plants: dict) -> pd.DataFrame:
    """Each plant's rows inside its own configured baseline period (ISO 50006)."""
    keep = []
    for plant_id, plant in plants.items():
        rows = hourly[
            (hourly["plant_id"] == plant_id)
            & (hourly["production_date"] >= pd.Timestamp(plant.energy_baseline.start))
            & (hourly["production_date"] <= pd.Timestamp(plant.energy_baseline.end))
        ]
        keep.append(rows)
    return pd.concat(keep, ignore_index=True) if keep else hourly.iloc[0:0]


@dg.asset(
    partitions_def=plant_partitions,
    group_name="ml",
    kinds={"lightgbm", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    # A plant's model learns from every day of its baseline period.
    deps=[dg.AssetDep(dg.AssetKey(["marts", "fct_line_energy_hourly"]), partition_mapping=dg.AllPartitionMapping())],
    description="The energy baseline template (ml/templates/energy_baseline.py) fit on the other plants' baseline "
    "periods (the template as it stood before this plant joined), calibrated on this plant's baseline period by "
    "continued boosting, evaluated on a time-based holdout against ASHRAE Guideline 14 (template only vs "
    "calibrated vs from scratch), and registered in MLflow as `energy_baseline.<plant>`.",
)
def energy_baseline_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
) -> dg.MaterializeResult:
    from ml.templates import energy_baseline as template
    from ml.training import train_and_register

    plant_id = context.partition_key
    configs = _plant_or_fail(plants, plant_id)
    with warehouse.connect(read_only=True) as con:
        hourly = template.plant_hourly_features(read_line_energy_hourly(con))
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    pooled = baseline_frames(hourly, configs)
    if pooled[pooled["plant_id"] == plant_id].empty:
        raise dg.Failure(f"{plant_id}: no standardized data in its baseline period {configs[plant_id].energy_baseline}")

    outcome = train_and_register(
        client=mlflow.client(),
        artifacts_dir=mlflow.artifacts_dir,
        plant=configs[plant_id],
        pooled=pooled,
        fingerprint=_fingerprint(pooled, template.TEMPLATE.version),
        code_version=_git_sha(),
    )
    context.log.info(f"{outcome['model_name']} v{outcome['version']}: {outcome['decision']}")
    metrics = outcome["metrics"]
    return dg.MaterializeResult(
        metadata={
            "registered_model": outcome["model_name"],
            "version": dg.MetadataValue.text(str(outcome["version"])),
            "alias": outcome["alias"] or "none",
            "decision": outcome["decision"],
            "reused_existing_version": outcome["reused"],
            "metrics": dg.MetadataValue.md(_metrics_table(metrics)),
            "cv_rmse_hourly": dg.MetadataValue.float(metrics["calibrated_cv_rmse_hourly"]),
            "model_adjustment_cv_rmse_points": dg.MetadataValue.float(metrics["adjustment_cv_rmse_points"]),
            "residuals": dg.MetadataValue.md(outcome["plot_markdown"]) if outcome.get("plot_markdown") else "",
            "mlflow_run_id": outcome["run_id"],
        }
    )


def _metrics_table(metrics: dict) -> str:
    return "\n".join(["| metric | value |", "|---|---:|"] + [f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items())])


def _plant_or_fail(plants: PlantsResource, plant_id: str):
    configs, invalid = plants.all()
    if plant_id not in configs:
        raise dg.Failure(f"plant {plant_id} has no valid config: {invalid.get(plant_id, 'folder missing')}")
    return configs


@dg.asset(
    partitions_def=plant_partitions,
    group_name="ml",
    kinds={"python", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[dg.AssetDep(dg.AssetKey(["marts", "fct_motor_health_daily"]), partition_mapping=dg.AllPartitionMapping())],
    description="The motor health template (ml/templates/motor_health.py): per-motor standardized vibration and "
    "bearing temperature, spread fit on every plant's healthy reference days, calibrated on this plant, "
    "registered in MLflow as `motor_health.<plant>`.",
)
def motor_health_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
) -> dg.MaterializeResult:
    from ml.templates import motor_health as template
    from ml.train_motor_health import train_and_register

    plant_id = context.partition_key
    configs = _plant_or_fail(plants, plant_id)
    with warehouse.connect(read_only=True) as con:
        daily = template.read_daily(con)
    standardized = template.standardize(daily)
    if standardized[standardized["plant_id"] == plant_id].empty:
        return dg.MaterializeResult(metadata={"skipped": f"{plant_id}: no motor vibration data yet"})
    outcome = train_and_register(
        mlflow.client(), mlflow.artifacts_dir, configs[plant_id], standardized,
        _fingerprint(standardized, template.TEMPLATE.version), _git_sha(),
    )
    context.log.info(f"{outcome['model_name']} v{outcome['version']}: {outcome['decision']}")
    return dg.MaterializeResult(metadata={
        "registered_model": outcome["model_name"], "version": dg.MetadataValue.text(str(outcome["version"])),
        "alias": outcome["alias"] or "none", "decision": outcome["decision"],
        "metrics": dg.MetadataValue.md(_metrics_table(outcome["metrics"])),
        "vibration_vs_iso20816_zones": dg.MetadataValue.md(_vibration_plot(warehouse, daily, plant_id)),
    })


def _vibration_plot(warehouse: WarehouseResource, daily: pd.DataFrame, plant_id: str) -> str:
    """Markdown image: the plant's motors' daily vibration against their machine classes' zone boundaries."""
    from ml.plots import markdown_image, motor_vibration_zones

    with warehouse.connect(read_only=True) as con:
        classes = con.execute(
            "select machine_class, ab_boundary_mms, bc_boundary_mms, cd_boundary_mms from staging.machine_classes"
        ).fetchall()
    mine = daily[(daily["plant_id"] == plant_id) & daily["vibration_mean_mms"].notna()]
    png = motor_vibration_zones(mine, {c: (ab, bc, cd) for c, ab, bc, cd in classes},
                                f"{plant_id}: daily vibration vs ISO 20816-3 zones")
    return markdown_image(png, f"{plant_id} motor vibration against ISO 20816-3 zones")


@dg.asset(
    partitions_def=plant_partitions,
    group_name="ml",
    kinds={"lightgbm", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[dg.AssetDep(dg.AssetKey(["marts", "fct_production_run"]), partition_mapping=dg.AllPartitionMapping())],
    description="The quality template (ml/templates/quality.py): scrap share per production run, pooled LightGBM "
    "calibrated on this plant by continued boosting, registered in MLflow as `quality.<plant>`.",
)
def quality_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
) -> dg.MaterializeResult:
    from ml.templates import quality as template
    from ml.train_quality import train_and_register

    plant_id = context.partition_key
    configs = _plant_or_fail(plants, plant_id)
    with warehouse.connect(read_only=True) as con:
        runs = template.read_runs(con)
    plant_runs = runs[runs["plant_id"] == plant_id]
    if plant_runs["production_date"].nunique() < 4:
        return dg.MaterializeResult(metadata={"skipped": f"{plant_id}: fewer than 4 days of production runs"})
    outcome = train_and_register(
        mlflow.client(), mlflow.artifacts_dir, configs[plant_id], runs, _fingerprint(runs[list(template.FEATURES) + ["scrap_share"]],
                                                                                     template.TEMPLATE.version), _git_sha(),
    )
    context.log.info(f"{outcome['model_name']} v{outcome['version']}: {outcome['decision']}")
    return dg.MaterializeResult(metadata={
        "registered_model": outcome["model_name"], "version": dg.MetadataValue.text(str(outcome["version"])),
        "alias": outcome["alias"] or "none", "decision": outcome["decision"],
        "metrics": dg.MetadataValue.md(_metrics_table(outcome["metrics"])),
    })


@dg.asset(
    partitions_def=plant_partitions,
    group_name="ml",
    kinds={"python", "duckdb", "mlflow"},
    owners=[CENTRAL_TEAM],
    pool="warehouse",
    deps=[energy_baseline_model],
    description="Nightly drift check of the plant's champion energy baseline: feature drift (PSI of the last "
    "days against the training window) and performance decay (hourly CV(RMSE) / NMBE of the champion on the "
    "last days). A crossed retraining rule opens an incident in actions.model_incidents and, when the plant's "
    "models.retrain_on_drift allows it, trains a new challenger on the recent window.",
)
def energy_model_drift(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
) -> dg.MaterializeResult:
    from ml.drift_monitor import INCIDENTS_DDL, INCIDENTS_TABLE, energy_drift

    plant_id = context.partition_key
    configs = _plant_or_fail(plants, plant_id)
    plant = configs[plant_id]
    from ml.templates import energy_baseline as template

    with warehouse.connect(read_only=True) as con:
        hourly = template.plant_hourly_features(read_line_energy_hourly(con))
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    client = mlflow.client()
    report = energy_drift(client, plant, hourly[hourly["plant_id"] == plant_id])
    retrained = None
    if report["crossed"]:
        with warehouse.connect() as con:
            con.execute("create schema if not exists actions")
            con.execute(INCIDENTS_DDL)
            con.execute(
                f"insert or replace into {INCIDENTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, now())",
                [report["incident_id"], plant_id, report["model_name"], report["model_version"],
                 report["window"], "; ".join(report["crossed"]), "open"],
            )
        if plant.models.retrain_on_drift:
            from ml.training import train_and_register

            recent = hourly[hourly["plant_id"] == plant_id]
            recent = recent[recent["production_date"] >= recent["production_date"].max() - pd.Timedelta(days=plant.models.drift_window_days - 1)]
            pooled = pd.concat([baseline_frames(hourly, {k: v for k, v in configs.items() if k != plant_id}), recent], ignore_index=True)
            from plant_assets.core.plant_config import BaselinePeriod

            challenger_plant = plant.model_copy(update={
                "models": plant.models.model_copy(update={"auto_promote": False}),
                "energy_baseline": BaselinePeriod(start=recent["production_date"].min().date(), end=recent["production_date"].max().date()),
            })
            retrained = train_and_register(client, mlflow.artifacts_dir, challenger_plant, pooled,
                                           _fingerprint(pooled, template.TEMPLATE.version + "-drift"), _git_sha())
            context.log.warning(f"{plant_id}: drift retraining -> {retrained['model_name']} v{retrained['version']}: {retrained['decision']}")
    return dg.MaterializeResult(metadata={
        "crossed_rules": dg.MetadataValue.json(report["crossed"]),
        "feature_psi": dg.MetadataValue.json({k: round(v, 4) for k, v in report["psi"].items()}),
        "recent_performance": dg.MetadataValue.json({k: round(v, 4) for k, v in report["performance"].items()}),
        "champion": f"{report['model_name']} v{report['model_version']}",
        "retrained_challenger": str(retrained["version"]) if retrained else "none",
    })
