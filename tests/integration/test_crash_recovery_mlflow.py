"""A training killed right after MLflow registered its model version (before tags and alias) leaves a RUNNING
run and a bare version; the next start marks the run FAILED and deletes the version, so the re-run registers
exactly one version and the governance review never lists the orphan (ml/crash_recovery.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from ml.crash_recovery import RECOVERY_TAG, recover_mlflow
from ml.templates import quality
from plant_assets.core.process_identity import is_alive
from plant_assets.core.settings import REPO_ROOT
from tests.ml_fixtures import plant, production_runs

TRAIN = """
import json, os, sys
import mlflow
import pandas as pd
from mlflow import MlflowClient
from ml.templates import quality
from plant_assets.core.process_identity import process_tags
from tests.ml_fixtures import plant, production_runs

os.environ["MLFLOW_RUN_CONTEXT"] = json.dumps(process_tags())  # as MlflowResource.configure does
uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
data = quality.features(pd.concat([production_runs("p", n=96), production_runs("q", n=96, seed=1)]))
quality.USE_CASE.train_and_register(MlflowClient(uri, uri), sys.argv[2], plant("p", auto_promote=True), data,
                                    quality.USE_CASE.fingerprint(data), "test")
"""


def test_a_training_killed_after_registration_leaves_no_debris(tmp_path: Path):
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    killed = subprocess.run(
        [sys.executable, "-c", TRAIN, uri, str(tmp_path / "artifacts")], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "PLANT_ASSETS_CRASH_AT": "training.registered", "PYTHONPATH": str(REPO_ROOT)}, timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    client = MlflowClient(uri, uri)
    [bare] = client.search_model_versions("name = 'quality.p'")
    assert "training_data_fingerprint" not in bare.tags
    [running] = client.search_runs([client.get_experiment_by_name("quality").experiment_id], "attributes.status = 'RUNNING'")

    recovery = recover_mlflow(client, is_alive, "process gone")

    assert recovery.failed_runs == [running.info.run_id] and recovery.deleted_versions == [f"quality.p v{bare.version}"]
    run = client.get_run(running.info.run_id)
    assert run.info.status == "FAILED" and run.data.tags[RECOVERY_TAG] == "process gone"
    assert client.search_model_versions("name = 'quality.p'") == []

    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        data = quality.features(pd.concat([production_runs("p", n=96), production_runs("q", n=96, seed=1)]))
        again = quality.USE_CASE.train_and_register(client, tmp_path / "artifacts", plant("p", auto_promote=True), data,
                                                    quality.USE_CASE.fingerprint(data), "test")
    finally:
        mlflow.set_tracking_uri(tracking)
        mlflow.set_registry_uri(registry)
    [version] = client.search_model_versions("name = 'quality.p'")
    assert again["alias"] == "champion" and version.tags["training_data_fingerprint"]
    assert client.search_runs([client.get_experiment_by_name("quality").experiment_id], "attributes.status = 'RUNNING'") == []
    # a second start changes nothing: a complete version and finished runs are not debris
    assert recover_mlflow(client, is_alive, "process gone").failed_runs == []
    assert len(client.search_model_versions("name = 'quality.p'")) == 1
    # a version in use (an alias points at it) is never deleted, even without its fingerprint
    client.delete_model_version_tag("quality.p", version.version, "training_data_fingerprint")
    assert recover_mlflow(client, is_alive, "process gone").deleted_versions == []
