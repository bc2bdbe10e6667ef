"""The training flow every use case shares: a use case (ml/use_case.py) fits its template on the pooled
plants and calibrates it for one plant; this module logs the result as a new version of `<use_case>.<plant>`
(params, metrics, template spec, dataset lineage, plots, model, tags, model card), validates it against the
template's thresholds and the champion, and sets its alias (ml/governance.py). Also the pieces the use cases
share: the time-based holdout, the training-data fingerprint, the champion as LightGBM, the model logger.

Kept free of Dagster so the same flow runs from the CLI, a notebook, a test or a benchmark.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ml import governance, model_registry
from ml.crash_points import crash_point

if TYPE_CHECKING:
    from ml.use_case import Candidate, UseCase

LIGHTGBM_REQUIREMENTS = ("lightgbm", "pandas", "numpy", "scikit-learn")


def pinned_requirements(*packages: str) -> list[str]:
    """The model's pip requirements, pinned to what trained it. Given explicitly, MLflow skips inferring
    them (a subprocess that loads the model: seconds per logged model)."""
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in packages]


def time_split(frame: pd.DataFrame, holdout_share: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-based holdout: the last days of the window are never seen in training (at least one day each)."""
    days = sorted(frame["production_date"].unique())
    if len(days) < 2:
        raise ValueError(f"a time-based holdout needs at least 2 days of data, got {len(days)}")
    keep = min(len(days) - 1, max(1, round(len(days) * (1 - holdout_share))))  # >= 1 holdout day
    cut = days[keep - 1]
    return frame[frame["production_date"] <= cut], frame[frame["production_date"] > cut]


FINGERPRINT_SIGNIFICANT_DIGITS = 9
# A float this small against its column's largest magnitude is a sum's cancellation noise (0.1 - 0.1 summed in
# another order gives 1.4e-17, not 0): it counts as 0.
FINGERPRINT_ZERO_RELATIVE = 1e-12


def data_fingerprint(frame: pd.DataFrame, template_version: str) -> str:
    """Same rows and same template version, same fingerprint: training them again registers nothing new.

    "Same rows" ignores what a re-run may change without the data changing: the row order and float noise.
    Floats are compared to 9 significant digits (FINGERPRINT_SIGNIFICANT_DIGITS; the marts' sums come from
    DuckDB's parallel aggregation, whose order, and so whose last binary digits, vary between runs: 428.265 vs
    428.26499999999993), a float under 1e-12 of its column's largest magnitude as 0 (FINGERPRINT_ZERO_RELATIVE),
    and the rows as a multiset (each row hashed, the row hashes sorted). A change in the 9th significant digit
    or above, a row more or less, a renamed column: a new fingerprint.
    """
    rows = frame.copy()
    for column in rows.columns:
        if pd.api.types.is_float_dtype(rows[column]):
            rows[column] = _float_texts(rows[column].astype("float64").to_numpy())  # a missing value is nan
    row_hashes = np.sort(pd.util.hash_pandas_object(rows, index=False).to_numpy())
    digest = hashlib.sha256(template_version.encode())
    digest.update("\0".join(map(str, rows.columns)).encode())
    digest.update(row_hashes.tobytes())
    return digest.hexdigest()[:16]


def _float_texts(values: np.ndarray) -> list[str]:
    """Floats as text to FINGERPRINT_SIGNIFICANT_DIGITS, cancellation noise and -0.0 as 0."""
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max()) if finite.size else 0.0
    values = np.where(np.abs(values) < scale * FINGERPRINT_ZERO_RELATIVE, 0.0, values) + 0.0
    return [format(v, f".{FINGERPRINT_SIGNIFICANT_DIGITS}g") for v in values]


def load_lightgbm(model_uri: str):
    import mlflow.lightgbm

    return mlflow.lightgbm.load_model(model_uri)


def lightgbm_champion(client, name: str):
    """The registered model's @champion as a LightGBM booster, or None before it has one."""
    if governance.alias_version(client, name, governance.CHAMPION) is None:
        return None
    return load_lightgbm(f"models:/{name}@{governance.CHAMPION}")


def lightgbm_logger(model, inputs: pd.DataFrame, outputs) -> Callable[[str], Any]:
    """`Candidate.log_model` for a LightGBM booster: signature from `inputs` -> `outputs`, five input rows."""

    def log_model(registered_name: str):
        import mlflow.lightgbm
        from mlflow.models import infer_signature

        return mlflow.lightgbm.log_model(
            model,
            name="model",
            signature=infer_signature(inputs, outputs),
            input_example=inputs.head(5),
            registered_model_name=registered_name,
            pip_requirements=pinned_requirements(*LIGHTGBM_REQUIREMENTS),
        )

    return log_model


def reused_version(client, name: str, existing) -> dict:
    """The training result of a version already trained on the same data (nothing new is registered)."""
    version = str(existing.version)
    alias = next((a for a in (governance.CHAMPION, governance.CHALLENGER) if governance.alias_version(client, name, a) == version), None)
    return {
        "model_name": name, "version": version, "alias": alias,
        "metrics": governance.version_metrics(existing), "decision": existing.tags.get("decision", ""),
        "reused": True, "run_id": existing.run_id,
    }


def train_and_register(
    use_case: UseCase, client, artifacts_dir: str | Path, plant, data: pd.DataFrame, fingerprint: str, code_version: str
) -> dict:
    """Train `use_case` for `plant` on `data` (every plant's rows) and register it with governance.

    Returns: model_name, version, alias (champion, challenger or None), metrics, decision, reused, run_id;
    a new version adds validation (text) and the use case's own outcome keys (e.g. plot_markdown)."""
    name = model_registry.registered_model_name(use_case.name, plant.plant_id)
    model_registry.ensure_registered_model(
        client,
        name,
        description=f"{use_case.title} for {plant.name}, calibrated from the common template.",
        tags={"use_case": use_case.name, "plant_id": plant.plant_id, "template": use_case.spec.name},
    )
    existing = model_registry.find_version_with_fingerprint(client, name, fingerprint)
    if existing is not None:  # same data, same template: re-running changes nothing
        return reused_version(client, name, existing)
    candidate = use_case.candidate(client, name, plant, data)
    outcome = register_version(
        client, artifacts_dir, use_case=use_case.name, plant=plant, spec=use_case.spec.as_dict(), candidate=candidate,
        fingerprint=fingerprint, code_version=code_version,
    )
    return outcome | candidate.outcome


def _log_png(png: bytes, file_name: str) -> None:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(png)
        mlflow.log_artifact(str(path), artifact_path="plots")


def register_version(
    client, artifacts_dir: str | Path, *, use_case: str, plant, spec: dict, candidate: Candidate, fingerprint: str,
    code_version: str,
) -> dict:
    """Log one calibrated plant instance as a new version of `<use_case>.<plant>`: params, metrics, the
    template spec, dataset lineage, plots, the model (signature + input example via `log_model`), tags, a
    model card; then validate it against the template's thresholds and the champion and set its alias."""
    import mlflow

    plant_id = plant.plant_id
    window, metrics = candidate.window, candidate.metrics
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
        lineage = candidate.dataset.copy()
        for column in lineage.columns:
            if str(lineage[column].dtype).startswith(("datetime", "date")) or lineage[column].dtype == object:
                lineage[column] = lineage[column].astype(str)
        mlflow.log_input(
            mlflow.data.from_pandas(lineage, name=f"{plant_id}.{use_case}.training", targets=candidate.target), context="training"
        )
        for file_name, png in candidate.plots.items():
            _log_png(png, file_name)
        info = candidate.log_model(name)
        crash_point("training.registered")
        # Tagged, validated and aliased while the run is still RUNNING: a version whose run ended is complete, and
        # one whose run a crash left RUNNING is a half registration that ml/crash_recovery.py removes.
        version = str(info.registered_model_version)
        validation = governance.validate(candidate.thresholds, candidate.candidate_metrics, candidate.champion_metrics)
        tags = {
            "template": spec["name"],
            "template_version": spec["version"],
            "plant_id": plant_id,
            "use_case": use_case,
            "training_window": f"{window[0]}..{window[1]}",
            "training_data_fingerprint": fingerprint,
            "data_gate": "passed (trained only on plant-days whose raw gate passed)",
            "code_version": code_version,
        } | candidate.tags | {f"metric.{k}": f"{float(v):.6f}" for k, v in metrics.items()}
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
        alias, decision = governance.record_validation(client, name, version, validation, plant.models.auto_promote)
        client.update_model_version(name, version, description=candidate.card.replace("{decision}", decision))
    return {
        "model_name": name, "version": version, "alias": alias, "metrics": metrics, "decision": decision,
        "reused": False, "run_id": run.info.run_id, "validation": validation.text(),
    }
