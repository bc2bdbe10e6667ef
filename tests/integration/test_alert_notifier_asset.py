"""Webhook delivery through the lake handoff: `alert_outbox` (pool `warehouse`) writes the due list,
`alert_notifier` (pool `webhooks`, no warehouse) posts it while ANOTHER PROCESS holds the DuckDB warehouse
open for write, and `alert_deliveries` (pool `warehouse`) records the outcomes in actions.alert_outbox."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import yaml

from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.operations import assets as operations_assets
from plant_assets.defs.operations.assets import alert_deliveries, alert_notifier, alert_outbox
from plant_assets.defs.resources import LakeResource, PlantsResource, WarehouseResource
from plant_assets.operations.alerts.store import upsert_alerts
from tests.integration.test_outbox_webhook import _candidate
from tests.webhook_receiver import WebhookReceiver

HOLD_WAREHOUSE = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(120)"


def _plants(tmp_path, webhooks: dict[str, str]):
    for plant_id, url in webhooks.items():
        folder = tmp_path / "plants" / plant_id
        shutil.copytree(REPO_ROOT / "plants" / plant_id, folder)
        config = yaml.safe_load((folder / "plant.yaml").read_text())
        (folder / "plant.yaml").write_text(yaml.safe_dump({**config, "webhook_url": url}))
    return tmp_path / "plants"


def _counts(result: dg.ExecuteInProcessResult) -> dict:
    metadata = result.asset_materializations_for_node("alert_notifier")[0].metadata
    return {key: metadata[key].value for key in ("delivered", "refused")}


def test_notifier_delivers_while_another_process_holds_the_warehouse(tmp_path, monkeypatch):
    assert alert_notifier.op.pool == "webhooks", "never the `warehouse` slot while it waits on the network"
    assert "warehouse" not in alert_notifier.required_resource_keys
    assert alert_outbox.op.pool == alert_deliveries.op.pool == "warehouse"
    # Had the notifier still opened the warehouse, it would fail after 3 s here instead of waiting 300 s.
    monkeypatch.setattr(operations_assets, "NOTIFIER_WAREHOUSE_WAIT_SECONDS", 3.0, raising=False)
    monkeypatch.delenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow", "c1", plant="plant_a"),
                                     _candidate(date(2026, 9, 9), "red", "c2", plant="plant_b")]))
    con.close()
    with WebhookReceiver() as rx:
        resources = {
            "warehouse": WarehouseResource(path=str(warehouse)),
            "lake": LakeResource(lake_dir=str(tmp_path / "lake"), landing_dir=str(tmp_path / "landing")),
            "plants": PlantsResource(plants_dir=str(_plants(
                tmp_path, {"plant_a": rx.url, "plant_b": "https://hooks.example.net/alerts"}))),
        }
        assert dg.materialize([alert_outbox], resources=resources).success

        holder = subprocess.Popen([sys.executable, "-c", HOLD_WAREHOUSE, str(warehouse)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "open", "the other process holds the warehouse"
            first = dg.materialize([alert_notifier], resources=resources, raise_on_error=False)
            assert first.success, "the notifier must not need the warehouse"
            # a second call before the outcomes are applied does not post the delivered alert again
            second = dg.materialize([alert_notifier], resources=resources, raise_on_error=False)
            assert second.success
        finally:
            holder.kill()
            holder.wait()

        assert _counts(first) == {"delivered": 1, "refused": 1}
        assert _counts(second) == {"delivered": 0, "refused": 1}
        assert [request["key"] for request in rx.requests] == ["a-c1:1"]
        assert list(rx.accepted) == ["a-c1:1"]

        assert dg.materialize([alert_deliveries], resources=resources).success
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select plant_id, status, attempts from actions.alert_outbox order by plant_id").fetchall() == [
        ("plant_a", "delivered", 1), ("plant_b", "refused", 0)]
    assert not list((tmp_path / "lake" / "actions" / "alert_outbox" / "outcomes").glob("*.parquet"))


def test_cli_deliver_applies_the_notifiers_outcomes_first(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from plant_assets.cli import app
    from plant_assets.operations.alerts.outbox import Outcome
    from plant_assets.operations.alerts.outbox_handoff import apply_outcomes, read_due, write_outcomes

    monkeypatch.delenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    warehouse, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    con = duckdb.connect(str(warehouse))
    upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow", "c1", plant="plant_a"),
                                     _candidate(date(2026, 9, 9), "red", "c2", plant="plant_a")]))
    apply_outcomes(con, lake)
    con.close()
    # a notifier run delivered c1, and no warehouse step has recorded it yet
    write_outcomes(lake, [Outcome("a-c1:1", "delivered", 1, None, delivered_at=pd.Timestamp("2026-09-10").to_pydatetime())])
    with WebhookReceiver() as rx:
        env = {"PLANT_ASSETS_HOME": str(tmp_path), "PLANT_ASSETS_DUCKDB": str(warehouse), "PLANT_ASSETS_LAKE": str(lake),
               "PLANT_ASSETS_PLANTS": str(_plants(tmp_path, {"plant_a": rx.url}))}
        result = CliRunner().invoke(app, ["alerts", "deliver"], env=env)
    assert result.exit_code == 0, result.output
    assert [request["key"] for request in rx.requests] == ["a-c2:1"], "c1 was delivered already: not sent again"
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select idempotency_key, status from actions.alert_outbox order by 1").fetchall() == [
        ("a-c1:1", "delivered"), ("a-c2:1", "delivered")]
    assert read_due(lake) == [], "the due list is written afresh: the next notifier run sends nothing again"
    assert not list((lake / "actions" / "alert_outbox" / "outcomes").glob("*.parquet"))
