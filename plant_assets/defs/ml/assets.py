"""ML: the common energy baseline template, calibrated per plant and registered in MLflow."""


import hashlib
import json
import subprocess

import dagster as dg
import pandas as pd

from plant_assets.defs.ingest.assets import CENTRAL_TEAM
from plant_assets.partitions import plant_partitions
from plant_assets.resources import MlflowResource, PlantsResource, WarehouseResource
from plant_assets.warehouse import read_line_energy_hourly

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
    description="The energy baseline template (ml/templates/energy_baseline.py) fit on every plant's baseline "
    "period, calibrated on this plant by continued boosting, evaluated on a time-based holdout against "
    "ASHRAE Guideline 14, and registered in MLflow as `energy_baseline.<plant>`.",
)
def energy_baseline_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow: MlflowResource, plants: PlantsResource
) -> dg.MaterializeResult:
    from ml.templates import energy_baseline as template
    from ml.training import train_and_register

    plant_id = context.partition_key
    configs, invalid = plants.all()
    if plant_id not in configs:
        raise dg.Failure(f"plant {plant_id} has no valid config: {invalid.get(plant_id, 'folder missing')}")
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
    table = "\n".join(["| metric | value |", "|---|---:|"] + [f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items())])
    return dg.MaterializeResult(
        metadata={
            "registered_model": outcome["model_name"],
            "version": dg.MetadataValue.text(str(outcome["version"])),
            "alias": outcome["alias"] or "none",
            "decision": outcome["decision"],
            "reused_existing_version": outcome["reused"],
            "metrics": dg.MetadataValue.md(table),
            "cv_rmse_hourly": dg.MetadataValue.float(metrics["calibrated_cv_rmse_hourly"]),
            "model_adjustment_cv_rmse_points": dg.MetadataValue.float(metrics["adjustment_cv_rmse_points"]),
            "residuals": dg.MetadataValue.md(outcome["plot_markdown"]) if outcome.get("plot_markdown") else "",
            "mlflow_run_id": outcome["run_id"],
        }
    )
