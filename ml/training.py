"""Fit a template on pooled data, calibrate it for one plant, and register the result with governance.

Kept free of Dagster so the same flow runs from the CLI, a notebook, a test or a benchmark.
`register_version` is shared by every use case; `train_and_register` is the energy baseline's flow.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ml import governance, model_registry
from ml.metrics import lag1_autocorrelation
from ml.plots import feature_importance_plot, markdown_image, residual_plot
from ml.templates import energy_baseline as template


def pinned_requirements(*packages: str) -> list[str]:
    """The model's pip requirements, pinned to what trained it. Given explicitly, MLflow skips inferring
    them (a subprocess that loads the model: seconds per logged model)."""
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in packages]


LIGHTGBM_REQUIREMENTS = ("lightgbm", "pandas", "numpy", "scikit-learn")

USE_CASE = template.TEMPLATE.name


def evaluate_candidates(pooled: pd.DataFrame, plant_id: str) -> tuple[dict, pd.DataFrame, dict]:
    """Template-only vs calibrated vs local-from-scratch on the plant's time-based holdout (ASHRAE G14).
    Template only = the template fit on the other plants' baseline periods (as it stood before this plant joined);
    calibrated = that template boosted on the plant's training days; local = from scratch on the same days."""
    train_parts, holdouts = [], {}
    for pid, frame in pooled.groupby("plant_id"):
        train, holdout = template.time_split(frame)
        train_parts.append(train)
        holdouts[pid] = holdout
    pooled_train = pd.concat(train_parts, ignore_index=True)
    plant_train = pooled_train[pooled_train["plant_id"] == plant_id]
    holdout = holdouts[plant_id]

    # The other plants' whole baseline periods (never this plant's holdout, even for a fleet of one).
    fleet = pd.concat([pooled[pooled["plant_id"] != plant_id], plant_train], ignore_index=True)
    template_model = template.fit_template(template.fleet_rows(fleet, plant_id))
    calibrated_model = template.calibrate(template_model, plant_train)
    local_model = template.fit_local(plant_train)
    results = {
        "template": template.evaluate(template_model, holdout),
        "calibrated": template.evaluate(calibrated_model, holdout),
        "local": template.evaluate(local_model, holdout),
        # Evidence for the calibration method: a residual (ratio) correction instead of, or on top of, boosting.
        "residual_corrected": template.evaluate(template_model, holdout, template.bias_factor(template_model, plant_train)),
        "boosted_and_residual": template.evaluate(calibrated_model, holdout, template.bias_factor(calibrated_model, plant_train)),
    }
    metrics = {f"{variant}_{k}": v for variant, values in results.items() for k, v in values.items()}
    metrics["adjustment_cv_rmse_points"] = 100 * (results["template"]["cv_rmse_hourly"] - results["calibrated"]["cv_rmse_hourly"])
    metrics["adjustment_nmbe_points"] = 100 * (abs(results["template"]["nmbe_hourly"]) - abs(results["calibrated"]["nmbe_hourly"]))
    # For the savings band (ASHRAE G14 Annex B): out-of-sample residual autocorrelation and baseline size.
    ordered = holdout.sort_values([c for c in ("production_date", "hour_utc") if c in holdout.columns])
    residuals = ordered[template.TEMPLATE.target].to_numpy(float) - template.predict(calibrated_model, ordered)
    metrics["calibrated_residual_rho1_hourly"] = lag1_autocorrelation(residuals)
    metrics["baseline_hours"] = float((pooled["plant_id"] == plant_id).sum())
    metrics["calibrated_daily_rmse_kwh_oos"] = daily_out_of_sample_rmse(template_model, pooled[pooled["plant_id"] == plant_id])
    predictions = {
        "actual": holdout[template.TEMPLATE.target].to_numpy(),
        "template": template.predict(template_model, holdout),
        "calibrated": template.predict(calibrated_model, holdout),
    }
    return metrics, holdout, predictions


def daily_out_of_sample_rmse(template_model, plant_baseline: pd.DataFrame) -> float:
    """RMS error of whole-day energy when each baseline day is predicted by a calibration that never saw it
    (leave one day out). A day's hours share their conditions, so their errors add up rather than cancel: this is
    the error a daily savings figure carries, which hourly CV(RMSE) with lag-1 autocorrelation understates."""
    days = sorted(plant_baseline["production_date"].unique())
    if len(days) < 3:
        return float("nan")
    errors = []
    for day in days:
        seen, unseen = plant_baseline[plant_baseline["production_date"] != day], plant_baseline[plant_baseline["production_date"] == day]
        model = template.calibrate(template_model, seen)
        errors.append(float(unseen[template.TEMPLATE.target].sum() - template.predict(model, unseen).sum()))
    return float(np.sqrt(np.mean(np.square(errors))))


def find_version_with_fingerprint(client, name: str, fingerprint: str):
    for version in client.search_model_versions(f"name = '{name}'"):
        if version.tags.get("training_data_fingerprint") == fingerprint:
            return version
    return None


def _reused(client, name: str, existing) -> dict:
    version = str(existing.version)
    alias = next((a for a in (governance.CHAMPION, governance.CHALLENGER) if governance.alias_version(client, name, a) == version), None)
    return {
        "model_name": name, "version": version, "alias": alias,
        "metrics": governance.version_metrics(existing), "decision": existing.tags.get("decision", ""),
        "reused": True, "run_id": existing.run_id,
    }


def _log_png(png: bytes, file_name: str) -> None:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(png)
        mlflow.log_artifact(str(path), artifact_path="plots")


def register_version(
    client, artifacts_dir: str | Path, *, use_case: str, plant, spec: dict, model, log_model, dataset: pd.DataFrame,
    target: str | None, metrics: dict, candidate_metrics: dict, champion_metrics: dict | None, thresholds: list,
    window: tuple[str, str], fingerprint: str, code_version: str, plots: dict[str, bytes], card: str,
) -> dict:
    """Log one calibrated plant instance as a new version of `<use_case>.<plant>`: params, metrics, the
    template spec, dataset lineage, plots, the model (signature + input example via `log_model`), tags, a
    model card; then validate it against the template's thresholds and the champion and set its alias."""
    import mlflow

    plant_id = plant.plant_id
    name = model_registry.registered_model_name(use_case, plant_id)
    experiment_id = model_registry.ensure_experiment(client, use_case, Path(artifacts_dir))
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run(run_name=f"{plant_id} {use_case} {window[0]}..{window[1]}") as run:
        mlflow.set_tags({"plant_id": plant_id, "template": spec["name"], "template_version": spec["version"]})
        mlflow.log_params({"plant_id": plant_id, "window_start": window[0], "window_end": window[1]} | {
            f"template.{k}": v for k, v in (spec.get("params") or {}).items()
        })
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        mlflow.log_dict(spec, "template_spec.json")
        lineage = dataset.copy()
        for column in lineage.columns:
            if str(lineage[column].dtype).startswith(("datetime", "date")) or lineage[column].dtype == object:
                lineage[column] = lineage[column].astype(str)
        mlflow.log_input(mlflow.data.from_pandas(lineage, name=f"{plant_id}.{use_case}.training", targets=target), context="training")
        for file_name, png in plots.items():
            _log_png(png, file_name)
        info = log_model(name)
    version = str(info.registered_model_version)
    validation = governance.validate(thresholds, candidate_metrics, champion_metrics)
    tags = {
        "template": spec["name"],
        "template_version": spec["version"],
        "plant_id": plant_id,
        "use_case": use_case,
        "training_window": f"{window[0]}..{window[1]}",
        "training_data_fingerprint": fingerprint,
        "data_gate": "passed (trained only on plant-days whose raw gate passed)",
        "code_version": code_version,
    } | {f"metric.{k}": f"{float(v):.6f}" for k, v in metrics.items()}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    alias, decision = governance.record_validation(client, name, version, validation, plant.models.auto_promote)
    client.update_model_version(name, version, description=card.replace("{decision}", decision))
    return {
        "model_name": name, "version": version, "alias": alias, "metrics": metrics, "decision": decision,
        "reused": False, "run_id": run.info.run_id, "validation": validation.text(),
    }


def _champion_metrics_on(client, name: str, holdout: pd.DataFrame) -> dict | None:
    """The current champion evaluated on the candidate's holdout (same data, fair comparison)."""
    if governance.alias_version(client, name, governance.CHAMPION) is None:
        return None
    import mlflow.lightgbm

    champion = mlflow.lightgbm.load_model(f"models:/{name}@{governance.CHAMPION}")
    return template.evaluate(champion, holdout)


def train_and_register(
    client, artifacts_dir: str | Path, plant, pooled: pd.DataFrame, fingerprint: str, code_version: str
) -> dict:
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    plant_id = plant.plant_id
    spec = template.TEMPLATE
    name = model_registry.registered_model_name(USE_CASE, plant_id)
    model_registry.ensure_registered_model(
        client,
        name,
        description=f"Energy baseline (ISO 50006 EnB) for {plant.name}, calibrated from the common template.",
        tags={"use_case": USE_CASE, "plant_id": plant_id, "template": spec.name},
    )
    existing = find_version_with_fingerprint(client, name, fingerprint)
    if existing is not None:  # same data, same template: re-running changes nothing
        return _reused(client, name, existing)

    metrics, holdout, predictions = evaluate_candidates(pooled, plant_id)
    champion_metrics = _champion_metrics_on(client, name, holdout)
    # The registered instance uses every baseline day: template on the other plants, calibration on this one.
    final_template = template.fit_template(template.fleet_rows(pooled, plant_id))
    plant_rows = pooled[pooled["plant_id"] == plant_id]
    final_model = template.calibrate(final_template, plant_rows)
    window = (str(plant.energy_baseline.start), str(plant.energy_baseline.end))
    features = plant_rows[list(spec.features)]

    residuals = residual_plot(
        predictions["actual"], predictions["template"], predictions["calibrated"],
        f"{name}: holdout residuals, template vs calibrated",
    )
    plots = {
        "residuals.png": residuals,
        "feature_importance.png": feature_importance_plot(
            list(spec.features), final_model.feature_importance("gain"), f"{name}: feature importance (gain)"
        ),
    }

    def log_model(model_name: str):
        return mlflow.lightgbm.log_model(
            final_model,
            name="model",
            signature=infer_signature(features, template.predict(final_model, plant_rows)),
            input_example=features.head(5),
            registered_model_name=name,
            pip_requirements=pinned_requirements(*LIGHTGBM_REQUIREMENTS),
        )

    candidate = {k[len("calibrated_"):]: v for k, v in metrics.items() if k.startswith("calibrated_")}
    outcome = register_version(
        client, artifacts_dir, use_case=USE_CASE, plant=plant, spec=spec.as_dict(), model=final_model,
        log_model=log_model, dataset=plant_rows, target=spec.target, metrics=metrics, candidate_metrics=candidate,
        champion_metrics=champion_metrics, thresholds=template.thresholds(), window=window, fingerprint=fingerprint,
        code_version=code_version, plots=plots,
        card=model_registry.model_card(plant_id, spec.as_dict(), metrics, window, "{decision}"),
    )
    outcome["plot_markdown"] = markdown_image(residuals, "holdout residuals")
    return outcome
