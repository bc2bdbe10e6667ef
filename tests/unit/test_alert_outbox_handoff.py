"""The outbox handed to the notifier through the lake (operations/alerts/outbox_handoff.py): outcomes not yet
applied are merged over the due list, applied in order in one transaction, and a crash between the commit
and the deletes re-applies the same files to the same end state."""

from __future__ import annotations

import pathlib
import time
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from plant_assets.operations.alerts.outbox import Outcome, OutboxRow
from plant_assets.operations.alerts.outbox_handoff import (
    apply_outcomes,
    outcome_files,
    read_due,
    write_outcomes,
)
from plant_assets.operations.alerts.store import upsert_alerts

T0 = datetime(2026, 9, 10, 6, 0)


def _alert(key: str) -> dict:
    day = date(2026, 9, 9)
    return {
        "alert_id": f"a-{key}", "condition_key": key, "plant_id": "plant_x", "production_date": day,
        "asset_path": "acme/site/area/L1/M1", "kind": "motor_health", "severity": "red",
        "owner_role": "maintenance", "owner": "maint@example.com", "title": f"{key} red",
        "recommended_action": "inspect the bearings", "explanation": "vibration 2x", "evidence": "{}",
        "model_name": "motor_health.plant_x", "model_version": "3", "status": "open", "raised_at": pd.Timestamp(day),
    }


def _outbox(con) -> list[tuple]:
    return con.execute("select idempotency_key, status, attempts, last_error, next_attempt_at, delivered_at "
                       "from actions.alert_outbox order by idempotency_key").fetchall()


@pytest.fixture
def handed_off(tmp_path):
    """Three queued alerts, the due list written, then two notifier calls whose outcomes are not applied yet:
    the first delivers c1 and fails c2, the second rejects c3 and fails c2 again."""
    con = duckdb.connect()
    upsert_alerts(con, pd.DataFrame([_alert("c1"), _alert("c2"), _alert("c3")]))
    lake = tmp_path / "lake"
    apply_outcomes(con, lake)  # no outcomes yet: writes the due list
    write_outcomes(lake, [Outcome("a-c1:1", "delivered", 1, None, delivered_at=T0),
                          Outcome("a-c2:1", "pending", 2, "HTTP 503", T0 + timedelta(hours=1))])
    time.sleep(0.002)  # the second call's file name (UTC time) sorts after the first's
    write_outcomes(lake, [Outcome("a-c2:1", "pending", 3, "timed out", T0 + timedelta(hours=2)),
                          Outcome("a-c3:1", "rejected", 1, "HTTP 400: schema mismatch")])
    return con, lake


def test_unapplied_outcomes_are_merged_over_the_due_list(handed_off):
    con, lake = handed_off
    due = read_due(lake)
    # c1 delivered and c3 rejected by earlier calls are not sent again; c2 carries its latest attempts and next try
    assert [(r.key, r.attempts, r.next_attempt_at) for r in due] == [("a-c2:1", 3, datetime(2026, 9, 10, 8, 0))]
    assert isinstance(due[0], OutboxRow) and due[0].plant_id == "plant_x"
    assert [row[1:3] for row in _outbox(con)] == [("pending", 0)] * 3, "the warehouse is untouched until applied"


def test_apply_records_the_files_in_order_then_deletes_them(handed_off):
    con, lake = handed_off
    queued = {row[0]: row[4] for row in _outbox(con)}  # next_attempt_at as enqueued (the queueing time)
    assert apply_outcomes(con, lake) == {"outcomes_applied": 4, "due": 1}
    assert _outbox(con) == [
        ("a-c1:1", "delivered", 1, None, queued["a-c1:1"], T0),
        ("a-c2:1", "pending", 3, "timed out", datetime(2026, 9, 10, 8, 0), None),  # the later file wins
        ("a-c3:1", "rejected", 1, "HTTP 400: schema mismatch", queued["a-c3:1"], None),
    ]
    assert outcome_files(lake) == []
    assert [(r.key, r.attempts) for r in read_due(lake)] == [("a-c2:1", 3)]


def test_a_crash_between_commit_and_delete_reapplies_to_the_same_table(handed_off, monkeypatch):
    con, lake = handed_off
    with monkeypatch.context() as patched:
        def killed(self, *args, **kwargs):
            raise KeyboardInterrupt("killed after the commit, before the outcome files were deleted")
        patched.setattr(pathlib.Path, "unlink", killed)
        with pytest.raises(KeyboardInterrupt):
            apply_outcomes(con, lake)
    after_crash = _outbox(con)
    assert [row[1] for row in after_crash] == ["delivered", "pending", "rejected"], "the commit went through"
    assert len(outcome_files(lake)) == 2, "the files are still there"
    assert apply_outcomes(con, lake) == {"outcomes_applied": 4, "due": 1}
    assert _outbox(con) == after_crash
    assert outcome_files(lake) == []
