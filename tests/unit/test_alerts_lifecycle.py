"""Alert de-duplication and lifecycle: a persisting condition updates one open alert, acknowledgements survive
re-runs, escalation makes a new revision in the outbox, a resolved condition that comes back is a new alert."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from plant_assets.operations.alerts.store import (
    acknowledge,
    condition_key,
    list_alerts,
    resolve,
    upsert_alerts,
)

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
    from plant_assets.operations.alerts.rules.motor_health import build_motor_alerts, motor_severity

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


def _plants(auto_resolve_days: int = 2) -> dict:
    from types import SimpleNamespace

    from plant_assets.core.plant_config import Alerting

    return {"plant_x": SimpleNamespace(alerting=Alerting(auto_resolve_days=auto_resolve_days))}


def _clear_day(day: date, kind: str = "motor_health", path: str = "acme/site/area/L1/M1") -> dict:
    return {"plant_id": "plant_x", "kind": kind, "asset_path": path, "production_date": day,
            "reason": "motor health back to green"}


def test_a_condition_clear_for_n_days_resolves_itself_and_is_delivered(con):
    from plant_assets.operations.alerts.store import auto_resolve

    _upsert(con, _candidate(D0), _candidate(D0 + timedelta(days=1), "red"))
    alert_id = list_alerts(con).iloc[0]["alert_id"]
    acknowledge(con, alert_id, "ana")
    # Clear days on or before the last bad day do not count; one clear day is not enough (twice is still one).
    clear = [_clear_day(D0), _clear_day(D0 + timedelta(days=2))]
    assert auto_resolve(con, pd.DataFrame(clear), _plants()) == 0
    assert auto_resolve(con, pd.DataFrame(clear), _plants()) == 0
    # Another asset's clear days do not resolve this one.
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0 + timedelta(days=3), path="acme/site/area/L1/M2")]), _plants()) == 0
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0 + timedelta(days=3))]), _plants()) == 1
    row = list_alerts(con).iloc[0]
    assert (row["status"], row["resolved_by"], row["revision"]) == ("resolved", "auto", 3)
    assert row["resolution_reason"] == "motor health back to green on 2 evaluated day(s) in a row, the last on 2026-09-12"
    assert row["acknowledged_by"] == "ana"  # the acknowledgement stays on record
    event = con.execute("select event, payload from actions.alert_outbox where idempotency_key = ?",
                        [f"{alert_id}:3"]).fetchone()
    assert event[0] == "resolved" and '"resolved_by": "auto"' in event[1]
    # A resolved alert stays resolved; re-running the nights it covered raises nothing new.
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0 + timedelta(days=4))]), _plants()) == 0
    assert _upsert(con, _candidate(D0), _candidate(D0 + timedelta(days=1), "red")) == {"new": 0, "escalated": 0, "updated": 0}
    # The condition coming back later is a new alert.
    assert _upsert(con, _candidate(D0 + timedelta(days=6)))["new"] == 1


def test_daily_energy_alerts_resolve_after_the_last_bad_day_and_n_is_configurable(con):
    from plant_assets.operations.alerts.store import auto_resolve

    path = "acme/site/area"

    def energy(day: date) -> dict:
        key = condition_key("plant_x", "energy_intensity", path, day)
        return _candidate(day, "warning", key) | {"kind": "energy_intensity", "asset_path": path, "alert_id": f"e-{key}"}

    _upsert(con, energy(D0), energy(D0 + timedelta(days=2)))
    clear = pd.DataFrame([_clear_day(D0 + timedelta(days=d), "energy_intensity", path) for d in (1, 3)])
    assert auto_resolve(con, clear, _plants()) == 0, "day 1 lies before the last bad day (2): only day 3 counts"
    assert auto_resolve(con, clear, _plants()) == 0, "a re-run of day 3 adds nothing"
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0 + timedelta(days=4), "energy_intensity", path)]), _plants()) == 2
    assert set(list_alerts(con)["status"]) == {"resolved"}
    # With auto_resolve_days = 1 a single clear day is enough.
    _upsert(con, energy(D0 + timedelta(days=10)))
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0 + timedelta(days=11), "energy_intensity", path)]),
                        _plants(auto_resolve_days=1)) == 1


def test_an_alert_whose_own_days_evaluate_clear_again_is_withdrawn_at_once(con):
    """A corrected re-delivery: the days an alert was raised for, evaluated again, are clear. Its evidence is
    gone, so it is resolved now (not after auto_resolve_days more days) and the resolution goes out."""
    from plant_assets.operations.alerts.store import auto_resolve

    path = "acme/site/area"
    key = condition_key("plant_x", "energy_intensity", path, D0)
    _upsert(con, _candidate(D0, "warning", key) | {"kind": "energy_intensity", "asset_path": path, "alert_id": "e1"})
    _upsert(con, _candidate(D0), _candidate(D0 + timedelta(days=1), "red"))  # a motor alert seen on two days
    # the motor's first day alone evaluated clear again: its second day still shows it, so it stays open
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0)]), _plants(auto_resolve_days=5)) == 0
    assert set(list_alerts(con)["status"]) == {"open"}
    # the energy alert's own day evaluated clear: withdrawn at once, although 5 clear days would be needed after it
    energy_clear = _clear_day(D0, "energy_intensity", path) | {"reason": "energy intensity within tolerance"}
    assert auto_resolve(con, pd.DataFrame([energy_clear]), _plants(auto_resolve_days=5)) == 1
    row = list_alerts(con).set_index("alert_id").loc["e1"]
    assert (row["status"], row["resolved_by"], row["revision"]) == ("resolved", "auto", 2)
    assert row["resolution_reason"] == ("energy intensity within tolerance on 2026-09-09, the day(s) it was raised "
                                        "for, evaluated again (their data or the model changed)")
    event = con.execute("select event from actions.alert_outbox where idempotency_key = 'e1:2'").fetchone()
    assert event == ("resolved",)
    # both days of the motor alert evaluated clear: withdrawn too
    assert auto_resolve(con, pd.DataFrame([_clear_day(D0), _clear_day(D0 + timedelta(days=1))]), _plants(5)) == 1
    assert set(list_alerts(con)["status"]) == {"resolved"}
