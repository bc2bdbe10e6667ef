"""The `alert_notifier` asset: pool `warehouse` (a DuckDB writer), delivery through short warehouse
connections, and a plant's webhook outside the allow-list recorded as refused."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import yaml

from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.operations.assets import alert_notifier
from plant_assets.defs.resources import PlantsResource, WarehouseResource
from plant_assets.operations.alerts.store import upsert_alerts
from tests.integration.test_outbox_webhook import _candidate
from tests.webhook_receiver import WebhookReceiver


def _plants(tmp_path, webhooks: dict[str, str]):
    for plant_id, url in webhooks.items():
        folder = tmp_path / "plants" / plant_id
        shutil.copytree(REPO_ROOT / "plants" / plant_id, folder)
        config = yaml.safe_load((folder / "plant.yaml").read_text())
        (folder / "plant.yaml").write_text(yaml.safe_dump({**config, "webhook_url": url}))
    return tmp_path / "plants"


def test_alert_notifier_runs_in_its_own_pool_and_delivers(tmp_path, monkeypatch):
    assert alert_notifier.op.pool == "warehouse", "a DuckDB writer: one at a time, also across Celery workers"
    monkeypatch.delenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow", "c1", plant="plant_a"),
                                     _candidate(date(2026, 9, 9), "red", "c2", plant="plant_b")]))
    con.close()
    with WebhookReceiver() as rx:
        plants = _plants(tmp_path, {"plant_a": rx.url, "plant_b": "https://hooks.example.net/alerts"})
        result = dg.materialize([alert_notifier], resources={
            "warehouse": WarehouseResource(path=str(warehouse)), "plants": PlantsResource(plants_dir=str(plants))})
    assert result.success
    metadata = result.asset_materializations_for_node("alert_notifier")[0].metadata
    assert metadata["delivered"].value == 1 and metadata["refused"].value == 1
    assert list(rx.accepted) == ["a-c1:1"]
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select plant_id, status from actions.alert_outbox order by plant_id").fetchall() == [
        ("plant_a", "delivered"), ("plant_b", "refused")]
