"""Governance on a temp SQLite tracking store (real MLflow, no mocks): validation -> challenger ->
approve -> champion -> reject -> rollback, and the `models` CLI."""

from __future__ import annotations

import pytest

from ml import governance


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("gov")
    uri = f"sqlite:///{root / 'm.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri), uri, root


def _register(client, uri, root, name: str, cv: float) -> str:
    """A version without logging a model (governance only looks at versions, aliases and tags)."""
    version = str(client.create_model_version(name, source=(root / "art" / name).as_uri()).version)
    client.set_model_version_tag(name, version, "metric.calibrated_cv_rmse_hourly", str(cv))
    return version


THRESHOLDS = [
    governance.Threshold("cv_rmse_hourly", 0.30, greater_is_better=False, champion_tolerance=0.02),
    governance.Threshold("abs_nmbe_hourly", 0.10, greater_is_better=False),
]


def test_validate_thresholds_and_champion():
    ok = governance.validate(THRESHOLDS, {"cv_rmse_hourly": 0.1, "abs_nmbe_hourly": 0.01}, None)
    assert ok.passed, ok.reasons
    too_big = governance.validate(THRESHOLDS, {"cv_rmse_hourly": 0.35, "abs_nmbe_hourly": 0.01}, None)
    assert not too_big.passed and "cv_rmse_hourly" in too_big.text()
    worse = governance.validate(THRESHOLDS, {"cv_rmse_hourly": 0.15, "abs_nmbe_hourly": 0.01}, {"cv_rmse_hourly": 0.10})
    assert not worse.passed and "champion" in worse.text()
    within = governance.validate(THRESHOLDS, {"cv_rmse_hourly": 0.11, "abs_nmbe_hourly": 0.01}, {"cv_rmse_hourly": 0.10})
    assert within.passed


def test_challenger_approve_reject_rollback(client):
    c, uri, root = client
    name = "energy_baseline.plant_x"
    c.create_registered_model(name, tags={"use_case": "energy_baseline", "plant_id": "plant_x"})
    v1 = _register(c, uri, root, name, 0.12)
    alias, _ = governance.record_validation(c, name, v1, governance.Validation(True), auto_promote=True)
    assert alias == "champion" and governance.alias_version(c, name, "champion") == v1

    v2 = _register(c, uri, root, name, 0.10)
    alias, decision = governance.record_validation(c, name, v2, governance.Validation(True), auto_promote=False)
    assert alias == "challenger" and "approval" in decision
    assert governance.alias_version(c, name, "champion") == v1  # a challenger never replaces the champion alone

    with pytest.raises(governance.GovernanceError):
        governance.approve(c, name, v1, by="qa", reason="not the challenger")
    assert governance.approve(c, name, v2, by="Ana Energy", reason="G14 met, reviewed plots") == v1
    assert governance.alias_version(c, name, "champion") == v2
    assert governance.alias_version(c, name, "challenger") is None
    tags = c.get_model_version(name, v2).tags
    assert tags["approved_by"] == "Ana Energy" and tags["approval_reason"] == "G14 met, reviewed plots"

    v3 = _register(c, uri, root, name, 0.4)
    alias, _ = governance.record_validation(c, name, v3, governance.Validation(False, ["cv too high"]), auto_promote=True)
    assert alias is None and governance.alias_version(c, name, "champion") == v2
    v4 = _register(c, uri, root, name, 0.11)
    governance.record_validation(c, name, v4, governance.Validation(True), auto_promote=False)
    governance.reject(c, name, v4, by="Ana Energy", reason="baseline period had a shutdown")
    assert governance.alias_version(c, name, "challenger") is None
    assert c.get_model_version(name, v4).tags["rejected_by"] == "Ana Energy"

    assert governance.rollback(c, name, by="Ana Energy", reason="v2 over-predicts nights") == (v2, v1)
    assert governance.alias_version(c, name, "champion") == v1
    with pytest.raises(governance.GovernanceError):
        governance.rollback(c, name, by="x", reason="nothing before v1")

    rows = governance.list_models(c)
    row = next(r for r in rows if r["model"] == name)
    assert row["champion"] == v1 and row["champion_metrics"]["calibrated_cv_rmse_hourly"] == pytest.approx(0.12)


def test_models_cli(client):
    from typer.testing import CliRunner

    from plant_assets.cli import app

    c, uri, root = client
    name = "quality.plant_y"
    c.create_registered_model(name, tags={"use_case": "quality", "plant_id": "plant_y"})
    v1 = _register(c, uri, root, name, 0.1)
    governance.record_validation(c, name, v1, governance.Validation(True), auto_promote=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--tracking-uri", uri])
    assert listed.exit_code == 0, listed.output
    assert "plant_y" in listed.output
    done = runner.invoke(app, ["models", "approve", name, v1, "--by", "Raj", "--reason", "first model", "--tracking-uri", uri])
    assert done.exit_code == 0, done.output
    assert governance.alias_version(c, name, "champion") == v1
    bad = runner.invoke(app, ["models", "rollback", name, "--by", "Raj", "--reason", "x", "--tracking-uri", uri])
    assert bad.exit_code == 1
