"""Fit the common template on pooled data, calibrate it for one plant, and register the result.

Kept free of Dagster so the same flow runs from the CLI, a notebook or a test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml import registry
from ml.plots import markdown_image, residual_plot
from ml.templates import energy_baseline as template

USE_CASE = template.TEMPLATE.name


def _evaluate_candidates(pooled: pd.DataFrame, plant_id: str) -> tuple[dict, pd.DataFrame, dict]:
    """Template-only vs calibrated on the plant's time-based holdout (ISO 50006 / ASHRAE G14)."""
    train_parts, holdouts = [], {}
    for pid, frame in pooled.groupby("plant_id"):
        train, holdout = template.time_split(frame)
        train_parts.append(train)
        holdouts[pid] = holdout
    pooled_train = pd.concat(train_parts, ignore_index=True)
    plant_train = pooled_train[pooled_train["plant_id"] == plant_id]
    holdout = holdouts[plant_id]

    template_model = template.fit_template(pooled_train)
    calibrated_model = template.calibrate(template_model, plant_train)
    template_metrics = template.evaluate(template_model, holdout)
    calibrated_metrics = template.evaluate(calibrated_model, holdout)
    metrics = {f"template_{k}": v for k, v in template_metrics.items()}
    metrics |= {f"calibrated_{k}": v for k, v in calibrated_metrics.items()}
    metrics["adjustment_cv_rmse_points"] = 100 * (
        template_metrics["cv_rmse_hourly"] - calibrated_metrics["cv_rmse_hourly"]
    )
    predictions = {
        "actual": holdout[template.TEMPLATE.target].to_numpy(),
        "template": template.predict(template_model, holdout),
        "calibrated": template.predict(calibrated_model, holdout),
    }
    return metrics, holdout, predictions


def _find_version_with_fingerprint(client, name: str, fingerprint: str):
    for version in client.search_model_versions(f"name = '{name}'"):
        if version.tags.get("training_data_fingerprint") == fingerprint:
            return version
    return None


def train_and_register(
    client, artifacts_dir: str | Path, plant, pooled: pd.DataFrame, fingerprint: str, code_version: str
) -> dict:
    import mlflow
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    plant_id = plant.plant_id
    spec = template.TEMPLATE
    name = registry.registered_model_name(USE_CASE, plant_id)
    registry.ensure_registered_model(
        client,
        name,
        description=f"Energy baseline (ISO 50006 EnB) for {plant.name}, calibrated from the common template.",
        tags={"use_case": USE_CASE, "plant_id": plant_id, "template": spec.name},
    )
    existing = _find_version_with_fingerprint(client, name, fingerprint)
    if existing is not None:  # same data, same template: re-running changes nothing
        metrics = {k[len("metric."):]: float(v) for k, v in existing.tags.items() if k.startswith("metric.")}
        alias = next(iter(existing.aliases), None) if existing.aliases else None
        return {
            "model_name": name, "version": existing.version, "alias": alias, "metrics": metrics,
            "decision": existing.tags.get("decision", ""), "reused": True, "run_id": existing.run_id,
        }

    metrics, holdout, predictions = _evaluate_candidates(pooled, plant_id)
    # The registered instance uses every baseline day: template on all plants, calibration on this one.
    final_template = template.fit_template(pooled)
    plant_rows = pooled[pooled["plant_id"] == plant_id]
    final_model = template.calibrate(final_template, plant_rows)
    window = (str(plant.energy_baseline.start), str(plant.energy_baseline.end))

    passes = metrics["calibrated_meets_ashrae_g14"] == 1.0
    if passes and plant.models.auto_promote:
        alias, decision = registry.CHAMPION, "auto-promoted to champion: meets ASHRAE G14 and plant allows auto-promotion"
    elif passes:
        alias, decision = registry.CHALLENGER, "challenger: meets ASHRAE G14, awaits approval"
    else:
        alias, decision = None, "rejected: does not meet ASHRAE G14 hourly limits"

    experiment_id = registry.ensure_experiment(client, USE_CASE, Path(artifacts_dir))
    mlflow.set_experiment(experiment_id=experiment_id)
    features = plant_rows[list(spec.features)]
    with mlflow.start_run(run_name=f"{plant_id} baseline {window[0]}..{window[1]}") as run:
        mlflow.set_tags({"plant_id": plant_id, "template": spec.name, "template_version": spec.version})
        mlflow.log_params({"plant_id": plant_id, "baseline_start": window[0], "baseline_end": window[1]} | {
            f"template.{k}": v for k, v in spec.params.items()
        })
        mlflow.log_metrics(metrics)
        mlflow.log_dict(spec.as_dict(), "template_spec.json")
        dataset = mlflow.data.from_pandas(
            plant_rows.assign(production_date=plant_rows["production_date"].astype(str), hour_utc=plant_rows["hour_utc"].astype(str)),
            name=f"{plant_id}.plant_hourly_baseline",
            targets=spec.target,
        )
        mlflow.log_input(dataset, context="training")
        png = residual_plot(
            predictions["actual"], predictions["template"], predictions["calibrated"],
            f"{name}: holdout residuals, template vs calibrated",
        )
        _log_png(png, "residuals.png")
        info = mlflow.lightgbm.log_model(
            final_model,
            name="model",
            signature=infer_signature(features, template.predict(final_model, plant_rows)),
            input_example=features.head(5),
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    tags = {
        "template": spec.name,
        "template_version": spec.version,
        "plant_id": plant_id,
        "training_window": f"{window[0]}..{window[1]}",
        "training_data_fingerprint": fingerprint,
        "data_gate": "passed (trained only on plant-days whose raw gate passed)",
        "code_version": code_version,
        "decision": decision,
    } | {f"metric.{k}": f"{v:.6f}" for k, v in metrics.items()}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.update_model_version(name, version, description=registry.model_card(plant_id, spec.as_dict(), metrics, window, decision))
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return {
        "model_name": name, "version": version, "alias": alias, "metrics": metrics, "decision": decision,
        "reused": False, "run_id": run.info.run_id, "plot_markdown": markdown_image(png, "holdout residuals"),
    }


def _log_png(png: bytes, file_name: str) -> None:
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(png)
        mlflow.log_artifact(str(path), artifact_path="plots")
