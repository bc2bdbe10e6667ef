"""The governance flow against a real `mlflow server` on 127.0.0.1 (not only a local file store):
train -> @challenger -> approve -> @champion -> a second version -> approve (CLI) -> rollback (CLI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.ml_fixtures import plant, plant_hours


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        [str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{root / 'm.db'}", "--default-artifact-root",
         str(root / "art"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"MLFLOW_TRACKING_URI": ""},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError("mlflow server did not become healthy in 90 s")
    yield url, root
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(autouse=True)
def restore_mlflow_uris():
    """The test points MLflow's process-wide URIs at its server; later tests must not inherit them."""
    import mlflow

    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    yield
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)


def test_train_challenger_approve_rollback_on_server(server, monkeypatch):
    import mlflow
    from mlflow import MlflowClient
    from typer.testing import CliRunner

    from ml import governance
    from ml.templates.energy_baseline import USE_CASE as energy_baseline
    from plant_assets.cli import app

    url, root = server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    name = "energy_baseline.plant_s"
    site = plant("plant_s", auto_promote=False)
    pooled = pd.concat([plant_hours("plant_s", seed=1), plant_hours("plant_t", seed=2, base_kw=80, run_kw=170)], ignore_index=True)

    first = energy_baseline.train_and_register(client, root / "artifacts", site, pooled, fingerprint="fp-1", code_version="test")
    assert first["alias"] == "challenger", first["decision"]
    assert governance.alias_version(client, name, "champion") is None
    version = client.get_model_version(name, first["version"])
    assert version.tags["template"] == "energy_baseline" and version.tags["validation"] == "passed"
    assert "ASHRAE" in version.description
    run = client.get_run(first["run_id"])
    assert run.inputs.dataset_inputs, "dataset lineage (log_input) is recorded"
    artifacts = {a.path for a in client.list_artifacts(first["run_id"], "plots")}
    assert {"plots/actual_vs_predicted.png", "plots/residuals_by_hour_of_week.png", "plots/feature_importance.png"} <= artifacts

    governance.approve(client, name, first["version"], by="Ana Energy", reason="first baseline reviewed")
    assert governance.alias_version(client, name, "champion") == first["version"]

    again = energy_baseline.train_and_register(client, root / "artifacts", site, pooled, fingerprint="fp-1", code_version="test")
    assert again["reused"] and again["version"] == first["version"]  # same data: no new version

    newer = pd.concat([plant_hours("plant_s", seed=3), plant_hours("plant_t", seed=2, base_kw=80, run_kw=170)], ignore_index=True)
    second = energy_baseline.train_and_register(client, root / "artifacts", site, newer, fingerprint="fp-2", code_version="test")
    assert second["alias"] == "challenger", second["decision"]  # validated against the champion on the same holdout
    assert governance.alias_version(client, name, "champion") == first["version"]

    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--tracking-uri", url])
    assert listed.exit_code == 0 and "plant_s" in listed.output, listed.output
    approved = runner.invoke(app, ["models", "approve", name, second["version"], "--by", "Ana Energy", "--reason", "new data",
                                   "--tracking-uri", url])
    assert approved.exit_code == 0, approved.output
    assert governance.alias_version(client, name, "champion") == second["version"]
    loaded = mlflow.lightgbm.load_model(f"models:/{name}@champion")
    assert loaded.num_trees() > 0  # scoring loads @champion from the server

    rolled = runner.invoke(app, ["models", "rollback", name, "--by", "Ana Energy", "--reason", "v2 over-predicts", "--tracking-uri", url])
    assert rolled.exit_code == 0, rolled.output
    assert governance.alias_version(client, name, "champion") == first["version"]
    tags = client.get_model_version(name, second["version"]).tags
    assert tags["rolled_back_by"] == "Ana Energy" and tags["approved_by"] == "Ana Energy"
