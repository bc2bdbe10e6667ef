"""The notifier against a real HTTP receiver on 127.0.0.1: retries with backoff, an outage loses nothing,
delivery resumes later and every alert revision arrives exactly once (Idempotency-Key)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from plant_assets.operations.actions_tables import utc_now
from plant_assets.operations.alerts.outbox import deliver_outbox
from plant_assets.operations.alerts.store import upsert_alerts
from tests.webhook_receiver import WebhookReceiver


def _candidate(day: date, severity: str, key: str = "c1", plant: str = "plant_x") -> dict:
    return {
        "alert_id": f"a-{key}", "condition_key": key, "plant_id": plant, "production_date": day,
        "asset_path": "acme/site/area/L1/M1", "kind": "motor_health", "severity": severity,
        "owner_role": "maintenance", "owner": "maint@example.com", "title": f"M1 {severity}",
        "recommended_action": "inspect the bearings", "explanation": "vibration 2x", "evidence": '{"score_sigma": 7}',
        "model_name": "motor_health.plant_x", "model_version": "3", "status": "open", "raised_at": pd.Timestamp(day),
    }


def test_outage_then_recovery_delivers_each_revision_exactly_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    sleeps: list[float] = []
    with WebhookReceiver() as rx:
        hook = lambda plant_id: rx.url  # noqa: E731
        upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow"), _candidate(date(2026, 9, 9), "warning", "c2")]))
        rx.mode = "503"
        counts = deliver_outbox(con, hook, max_attempts=3, backoff_seconds=0.01, sleep=sleeps.append)
        assert counts == {"delivered": 0, "failed": 2, "rejected": 0, "refused": 0, "no_endpoint": 0, "waiting": 0,
                          "deferred": 0}
        assert sleeps == [0.01, 0.02], "exponential backoff between tries; the second row waits for the next call"
        pending = con.execute("select status, attempts, last_error from actions.alert_outbox order by idempotency_key").fetchall()
        assert pending[0] == ("pending", 3, "HTTP 503 Service Unavailable") and pending[1][0] == "pending"
        hours_later = lambda hours: lambda: utc_now() + timedelta(hours=hours)  # noqa: E731  past each backoff

        # Still down (connection dropped) while the condition escalates: a new revision is queued, nothing lost.
        rx.mode = "drop"
        upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 10), "red")]))
        assert deliver_outbox(con, hook, max_attempts=2, backoff_seconds=0, timeout_seconds=2,
                              clock=hours_later(2))["delivered"] == 0

        rx.mode = "up"
        counts = deliver_outbox(con, hook, backoff_seconds=0, clock=hours_later(4))
        assert counts["delivered"] == 3 and counts["failed"] == 0
        # Delivered rows are not sent again; a persisting condition does not enqueue anything new.
        upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 11), "red")]))
        assert deliver_outbox(con, hook)["delivered"] == 0
    assert sorted(rx.accepted) == ["a-c1:1", "a-c1:2", "a-c2:1"]
    assert rx.duplicates == 0
    assert [rx.accepted["a-c1:1"]["severity"], rx.accepted["a-c1:2"]["severity"]] == ["yellow", "red"]
    assert rx.accepted["a-c1:2"]["event"] == "escalated"
    assert rx.accepted["a-c1:1"]["evidence"] == {"score_sigma": 7}
    assert con.execute("select count(*) from actions.alerts").fetchone()[0] == 2


def test_receiver_dedupes_a_redelivery_and_no_endpoint_keeps_rows(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow")]))
    # No webhook configured: the row is kept and marked, not dropped.
    assert deliver_outbox(con, lambda plant_id: None)["no_endpoint"] == 1
    assert con.execute("select status, last_error from actions.alert_outbox").fetchone() == ("no_endpoint", "no endpoint configured")
    with WebhookReceiver() as rx:
        assert deliver_outbox(con, lambda plant_id: rx.url)["delivered"] == 1
        # Simulate a lost acknowledgement: the row is sent again; the receiver's idempotency key absorbs it.
        con.execute("update actions.alert_outbox set status = 'pending'")
        assert deliver_outbox(con, lambda plant_id: rx.url)["delivered"] == 1
    assert list(rx.accepted) == ["a-c1:1"] and rx.duplicates == 1
