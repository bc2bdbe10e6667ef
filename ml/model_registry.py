"""The MLflow model registry's names and lookups: one registered model per use case and plant
(`<use_case>.<plant>`), one experiment per use case, and the aliases (`@challenger`, `@champion`) that
scoring and reviewers rely on. What a version may become, and who decides, is ml/governance.py."""

from __future__ import annotations

from pathlib import Path

CHAMPION, CHALLENGER = "champion", "challenger"


def registered_model_name(use_case: str, plant_id: str) -> str:
    return f"{use_case}.{plant_id}"


def ensure_experiment(client, name: str, artifacts_dir: Path) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    return client.create_experiment(name, artifact_location=(artifacts_dir / name).as_uri())


def ensure_registered_model(client, name: str, description: str, tags: dict[str, str]) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, tags=tags, description=description)


def alias_version(client, name: str, alias: str):
    """The version an alias points at, as the store returns it (an int from a SQL store, a str from a
    server), or None when the alias is not set. ml.governance.alias_version is the same as a str."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias).version
    except MlflowException:
        return None


def find_version_with_fingerprint(client, name: str, fingerprint: str):
    """The version already trained on exactly this data and template version, if any."""
    for version in client.search_model_versions(f"name = '{name}'"):
        if version.tags.get("training_data_fingerprint") == fingerprint:
            return version
    return None
