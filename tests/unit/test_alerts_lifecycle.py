"""Alert de-duplication and lifecycle: a persisting condition updates one open alert, acknowledgements survive
re-runs, escalation makes a new revision in the outbox, a resolved condition that comes back is a new alert."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from plant_assets.alerting import acknowledge, condition_key, list_alerts, resolve, upsert_alerts

D0 = date(2026, 9, 9)


def _candidate(day: date, severity: str = "yellow", key: str = "k1") -> dict:
    return {
        "alert_id": f"a-{key}", "condition_key": key, "plant_id": "plant_x", "production_date": day,
        "asset_path": "acme/site/area/L1/M1", "kind": "motor_health", "severity": severity, "owner_role": "maintenance",
        "owner": "maint@example.com", "title": f"M1 {severity} on {day}", "recommended_action": "inspect the bearings",
        "explanation": "vibration 2x its normal level", "evidence": "{}", "model_name": "motor_health.plant_x",
        "model_version": "1", "status": "open", "raised_at": pd.Timestamp(day),
    }


def _upsert(con, *rows):
    return upsert_alerts(con, pd.DataFrame(list(rows)))


@pytest.fixture
def con():
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def test_persisting_condition_updates_one_alert_and_escalation_is_a_new_revision(con):
    assert _upsert(con, _candidate(D0)) == {"new": 1, "escalated": 0, "updated": 0}
    assert _upsert(con, _candidate(D0 + timedelta(days=1))) == {"new": 0, "escalated": 0, "updated": 1}
    assert _upsert(con, _candidate(D0 + timedelta(days=2), "red"))["escalated"] == 1
    alerts = list_alerts(con)
    assert len(alerts) == 1
    row = alerts.iloc[0]
    assert (row["severity"], row["revision"], row["status"]) == ("red", 2, "open")
    assert pd.Timestamp(row["first_seen_date"]).date() == D0 and pd.Timestamp(row["last_seen_date"]).date() == D0 + timedelta(days=2)
    keys = con.execute("select idempotency_key, event from actions.alert_outbox order by revision").fetchall()
    assert keys == [("a-k1:1", "raised"), ("a-k1:2", "escalated")]
    # An open alert does not de-escalate on its own.
    _upsert(con, _candidate(D0 + timedelta(days=3), "yellow"))
    assert list_alerts(con).iloc[0]["severity"] == "red"


def test_acknowledgement_survives_reruns_and_resolved_conditions_raise_a_new_alert(con):
    _upsert(con, _candidate(D0), _candidate(D0 + timedelta(days=1)))
    alert_id = list_alerts(con).iloc[0]["alert_id"]
    assert acknowledge(con, alert_id, "ana") == "acknowledged"
    with pytest.raises(ValueError):
        acknowledge(con, alert_id, "ana")
    # Re-running the same nights changes nothing about the lifecycle.
    assert _upsert(con, _candidate(D0), _candidate(D0 + timedelta(days=1)))["new"] == 0
    row = list_alerts(con).iloc[0]
    assert row["status"] == "acknowledged" and row["acknowledged_by"] == "ana"
    assert resolve(con, alert_id, "bo") == "resolved"
    assert con.execute("select count(*) from actions.alert_outbox").fetchone()[0] == 1
    # The condition comes back after resolution: a new alert with a new id, delivered again.
    assert _upsert(con, _candidate(D0 + timedelta(days=5)))["new"] == 1
    alerts = list_alerts(con)
    assert len(alerts) == 2 and alerts["alert_id"].nunique() == 2
    assert set(alerts["status"]) == {"resolved", "open"}
    with pytest.raises(KeyError):
        resolve(con, "nope", "bo")


def test_condition_keys_are_stable_and_distinguish_assets():
    assert condition_key("p", "motor_health", "a/b/M1") == condition_key("p", "motor_health", "a/b/M1")
    assert condition_key("p", "motor_health", "a/b/M1") != condition_key("p", "motor_health", "a/b/M2")
    assert condition_key("p", "energy_intensity", "a", D0) != condition_key("p", "energy_intensity", "a", D0 + timedelta(days=1))


def test_motor_rule_yellow_then_red_and_healthy_motors_silent():
    from plant_assets.alert_rules import build_motor_alerts, motor_severity

    assert motor_severity({"alert": False, "zone": "A", "score": 1.0}) is None
    assert motor_severity({"alert": True, "zone": "B", "score": 7.0}) == "yellow"
    assert motor_severity({"alert": True, "zone": "D", "score": 7.0}) == "red"
    assert motor_severity({"alert": True, "zone": "C", "score": 30.0}) == "yellow"
    assert build_motor_alerts(pd.DataFrame(), {}, D0, D0).empty


def test_cli_alerts_list_ack_resolve(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from plant_assets.cli import app

    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("PLANT_ASSETS_DUCKDB", str(db))
    connection = duckdb.connect(str(db))
    _upsert(connection, _candidate(D0))
    alert_id = list_alerts(connection).iloc[0]["alert_id"]
    connection.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["alerts", "list", "--json"])
    assert listed.exit_code == 0 and alert_id in listed.output
    assert runner.invoke(app, ["alerts", "ack", alert_id, "--by", "ana"]).exit_code == 0
    assert runner.invoke(app, ["alerts", "ack", alert_id]).exit_code == 1
    assert runner.invoke(app, ["alerts", "resolve", alert_id, "--by", "ana"]).exit_code == 0
    assert "1 alert(s)" in runner.invoke(app, ["alerts", "list", "--status", "resolved"]).output
    assert "0 alert(s)" in runner.invoke(app, ["alerts", "list", "--status", "open"]).output
