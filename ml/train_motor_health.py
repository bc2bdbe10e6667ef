"""Motor health: fit the template on every plant's motors, calibrate one plant, register it with governance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml import governance, model_registry
from ml.templates import motor_health as template
from ml.training import (
    _reused,
    find_version_with_fingerprint,
    pinned_requirements,
    register_version,
)

USE_CASE = template.TEMPLATE.name


def thresholds() -> list:
    # In production there are no failure labels: a plant instance must stay silent on its healthy
    # reference days (no alert on a healthy motor) and keep every motor scorable.
    return [
        governance.Threshold("reference_alert_days", 0.0, greater_is_better=False),
        governance.Threshold("motors_scored", 1.0, greater_is_better=True),
    ]


def candidates(standardized: pd.DataFrame, plant_id: str) -> dict[str, dict]:
    pooled_model = template.fit_template(standardized)
    plant = standardized[standardized["plant_id"] == plant_id]
    return {
        "template": pooled_model,
        "calibrated": template.calibrate(pooled_model, plant),
        "local": template.fit_local(plant),
    }


def plant_metrics(model: dict, plant_frame: pd.DataFrame) -> dict[str, float]:
    alerted = template.alerts(template.score(model, plant_frame))
    ref = alerted[alerted["is_reference"]]
    return {
        "reference_alert_days": float(ref["alert"].sum()),
        "alert_days": float(alerted["alert"].sum()),
        "motors_alerted": float(alerted.loc[alerted["alert"], "motor_id"].nunique()),
        "motors_scored": float(alerted["motor_id"].nunique()),
        "reference_days": float(model.get("n_reference", 0)),
    } | {f"sigma_{k}": float(v) for k, v in model["sigma"].items()}


def train_and_register(client, artifacts_dir: str | Path, plant, standardized: pd.DataFrame, fingerprint: str, code_version: str) -> dict:
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    plant_id = plant.plant_id
    spec = template.TEMPLATE
    name = model_registry.registered_model_name(USE_CASE, plant_id)
    model_registry.ensure_registered_model(
        client, name, description=f"Motor health / anomaly detector for {plant.name}, calibrated from the common template.",
        tags={"use_case": USE_CASE, "plant_id": plant_id, "template": spec.name},
    )
    existing = find_version_with_fingerprint(client, name, fingerprint)
    if existing is not None:
        return _reused(client, name, existing)
    models = candidates(standardized, plant_id)
    plant_rows = standardized[standardized["plant_id"] == plant_id]
    metrics = {}
    for variant, model in models.items():
        metrics |= {f"{variant}_{k}": v for k, v in plant_metrics(model, plant_rows).items()}
    calibrated = models["calibrated"]
    candidate = plant_metrics(calibrated, plant_rows)
    window = (str(plant_rows["production_date"].min().date()), str(plant_rows["production_date"].max().date()))
    inputs = plant_rows[list(template.FEATURES)].astype("float64")

    def log_model(_name: str):
        return mlflow.pyfunc.log_model(
            name="model", python_model=template.pyfunc_model(calibrated),
            signature=infer_signature(inputs, template.score(calibrated, plant_rows)[["score"]]),
            input_example=inputs.head(5), registered_model_name=name,
            pip_requirements=pinned_requirements("pandas", "numpy"),
        )

    card = _card(plant_id, spec.as_dict(), metrics, window)
    return register_version(
        client, artifacts_dir, use_case=USE_CASE, plant=plant, spec=spec.as_dict(), model=calibrated, log_model=log_model,
        dataset=plant_rows[["plant_id", "motor_id", "production_date", *template.FEATURES, "zone"]], target=None,
        metrics=metrics, candidate_metrics=candidate, champion_metrics=None, thresholds=thresholds(), window=window,
        fingerprint=fingerprint, code_version=code_version, plots={}, card=card,
    )


def _card(plant_id: str, spec: dict, metrics: dict, window: tuple[str, str]) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()))
    return f"""# motor_health for {plant_id}

**Template** `{spec['name']}` v{spec['version']} ({spec['model_family']}); the spread of each standardized
feature is fit on every plant's healthy reference days and calibrated on {plant_id}'s own ({window[0]} to {window[1]}).

**Alert rule**: score > {spec['params']['alert_z']} sigmas on {spec['params']['consecutive_days']} consecutive days,
or ISO 20816-3 zone D. Features: {', '.join(spec['features'])}.

**Decision**: {{decision}}

| metric | value |
|---|---|
{rows}

Assumptions: {'; '.join(spec['assumptions'])}.
"""
