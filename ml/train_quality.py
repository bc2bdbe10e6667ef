"""Quality (scrap share per run): pooled template, plant calibration, governance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml import governance, model_registry
from ml.templates import quality as template
from ml.training import (
    LIGHTGBM_REQUIREMENTS,
    _reused,
    find_version_with_fingerprint,
    pinned_requirements,
    register_version,
)

USE_CASE = template.TEMPLATE.name


def evaluate_candidates(runs: pd.DataFrame, plant_id: str) -> dict:
    train_parts, holdouts = [], {}
    for pid, frame in runs.groupby("plant_id"):
        train, holdout = template.time_split(frame)
        train_parts.append(train)
        holdouts[pid] = holdout
    pooled_train = pd.concat(train_parts, ignore_index=True)
    plant_train, holdout = pooled_train[pooled_train["plant_id"] == plant_id], holdouts[plant_id]
    pooled_model = template.fit_template(pooled_train)
    models = {"template": pooled_model, "calibrated": template.calibrate(pooled_model, plant_train), "local": template.fit_local(plant_train)}
    metrics = {f"{v}_{k}": x for v, m in models.items() for k, x in template.evaluate(m, holdout).items()}
    metrics["adjustment_mae_points"] = 100 * (metrics["template_mae_scrap_share"] - metrics["calibrated_mae_scrap_share"])
    return metrics, holdout


def train_and_register(client, artifacts_dir: str | Path, plant, runs: pd.DataFrame, fingerprint: str, code_version: str) -> dict:
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    plant_id = plant.plant_id
    spec = template.TEMPLATE
    name = model_registry.registered_model_name(USE_CASE, plant_id)
    model_registry.ensure_registered_model(
        client, name, description=f"Scrap share per production run for {plant.name}, calibrated from the common template.",
        tags={"use_case": USE_CASE, "plant_id": plant_id, "template": spec.name},
    )
    existing = find_version_with_fingerprint(client, name, fingerprint)
    if existing is not None:
        return _reused(client, name, existing)
    metrics, holdout = evaluate_candidates(runs, plant_id)
    champion = None
    if governance.alias_version(client, name, governance.CHAMPION):
        champion = template.evaluate(mlflow.lightgbm.load_model(f"models:/{name}@{governance.CHAMPION}"), holdout)
    plant_rows = runs[runs["plant_id"] == plant_id]
    final = template.calibrate(template.fit_template(runs), plant_rows)
    inputs = plant_rows[list(template.FEATURES)]
    window = (str(plant_rows["production_date"].min().date()), str(plant_rows["production_date"].max().date()))

    def log_model(_name: str):
        return mlflow.lightgbm.log_model(
            final, name="model", signature=infer_signature(inputs, template.predict(final, plant_rows)),
            input_example=inputs.head(5), registered_model_name=name,
            pip_requirements=pinned_requirements(*LIGHTGBM_REQUIREMENTS),
        )

    candidate = {k[len("calibrated_"):]: v for k, v in metrics.items() if k.startswith("calibrated_")}
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()))
    card = (f"# quality for {plant_id}\n\n**Template** `{spec.name}` v{spec.version} ({spec.model_family}), calibrated by "
            f"continued boosting on {plant_id}'s runs {window[0]} to {window[1]}. Predicts {spec.target} per run.\n\n"
            f"**Decision**: {{decision}}\n\n| metric | value |\n|---|---|\n{rows}\n\nAcceptance: holdout MAE <= "
            f"{spec.validation['mae_scrap_share_max']:.0%} scrap share.\n")
    return register_version(
        client, artifacts_dir, use_case=USE_CASE, plant=plant, spec=spec.as_dict(), model=final, log_model=log_model,
        dataset=plant_rows[["plant_id", "order_id", "production_date", *template.FEATURES, spec.target]], target=spec.target,
        metrics=metrics, candidate_metrics=candidate, champion_metrics=champion, thresholds=template.thresholds(),
        window=window, fingerprint=fingerprint, code_version=code_version, plots={}, card=card,
    )
