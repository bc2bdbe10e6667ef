"""MLflow debris of a training killed mid-way: runs left RUNNING and model versions registered but never
tagged or aliased (a half registration, which the governance review would list and a re-run would
duplicate). The caller says which processes are alive (`is_alive` over a run's tags: True, False, or None
when it cannot tell); ml knows nothing of hosts and pids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

FINGERPRINT_TAG = "training_data_fingerprint"
RECOVERY_TAG = "plant_assets.recovery"


@dataclass
class MlflowRecovery:
    failed_runs: list[str] = field(default_factory=list)
    deleted_versions: list[str] = field(default_factory=list)


def _running_runs(client):
    from mlflow.entities import ViewType

    experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=1000)
    if not experiments:
        return []
    return client.search_runs([e.experiment_id for e in experiments], "attributes.status = 'RUNNING'",
                              max_results=10000)


def recover_mlflow(client, is_alive: Callable[[dict[str, str]], bool | None], reason: str) -> MlflowRecovery:
    """Mark RUNNING runs of dead processes FAILED (tag `plant_assets.recovery` = `reason`), then delete every
    model version without an alias that is half registered: created by such a run, or lacking the
    fingerprint tag while its run is not running. A version with an alias is in use and stays; models the
    platform's training did not create (no `use_case` tag) are not touched."""
    recovery = MlflowRecovery()
    dead_runs = set()
    for run in _running_runs(client):
        if is_alive(run.data.tags) is False:
            client.set_tag(run.info.run_id, RECOVERY_TAG, reason)
            client.set_terminated(run.info.run_id, status="FAILED")
            dead_runs.add(run.info.run_id)
            recovery.failed_runs.append(run.info.run_id)
    for model in client.search_registered_models(max_results=1000):
        if "use_case" not in model.tags:  # not registered by the platform's training: not ours to judge
            continue
        aliased = {str(version) for version in model.aliases.values()}
        for version in client.search_model_versions(f"name = '{model.name}'"):
            if str(version.version) in aliased:
                continue
            if version.run_id in dead_runs or (FINGERPRINT_TAG not in version.tags and not _run_running(client, version.run_id)):
                client.delete_model_version(model.name, version.version)
                recovery.deleted_versions.append(f"{model.name} v{version.version}")
    return recovery


def _run_running(client, run_id: str | None) -> bool:
    from mlflow.exceptions import MlflowException

    if not run_id:
        return False
    try:
        return client.get_run(run_id).info.status == "RUNNING"
    except MlflowException:
        return False
