"""Delivery against misbehaving receivers on 127.0.0.1: a slow drip cannot hold the notifier past its
deadline or its budget, a failing endpoint is left alone until its backoff has passed (growing across calls),
a permanent 4xx is never retried, and a host outside the allow-list is never contacted."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import duckdb
import pandas as pd

from plant_assets.operations.alerts.outbox import deliver_outbox
from plant_assets.operations.alerts.store import upsert_alerts
from tests.integration.test_outbox_webhook import _candidate
from tests.webhook_receiver import WebhookReceiver

def _minute_ahead() -> datetime:
    """A fixed clock a minute ahead of the rows queued by the test (taken when it starts, not when the module is
    imported: in the full suite that is minutes earlier): they are due, and backoff times are exact."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + timedelta(minutes=1)


def _outbox(tmp_path, alerts: int = 1):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    upsert_alerts(con, pd.DataFrame([_candidate(date(2026, 9, 9), "yellow", f"c{i}") for i in range(alerts)]))
    return con


def _rows(con):
    return con.execute("select idempotency_key, status, attempts, last_error, next_attempt_at "
                       "from actions.alert_outbox order by idempotency_key").fetchall()


def test_slow_drip_gives_up_at_the_deadline(tmp_path):
    con = _outbox(tmp_path)
    with WebhookReceiver() as rx:
        rx.mode = "drip"
        started = time.monotonic()
        counts = deliver_outbox(con, lambda plant_id: rx.url, max_attempts=1, timeout_seconds=1.5)
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5, f"one try, ended by its 1.5 s deadline, took {elapsed:.2f} s"
    assert counts["failed"] == 1 and counts["delivered"] == 0
    key, status, attempts, error, _ = _rows(con)[0]
    assert (status, attempts) == ("pending", 1)
    assert error == "no complete answer within 1.5 s (deadline)"


def test_the_call_budget_bounds_retries_against_a_slow_drip(tmp_path):
    con = _outbox(tmp_path, alerts=2)
    with WebhookReceiver() as rx:
        rx.mode = "drip"
        started = time.monotonic()
        counts = deliver_outbox(con, lambda plant_id: rx.url, max_attempts=4, backoff_seconds=0,
                                timeout_seconds=1.0, budget_seconds=1.5)
        elapsed = time.monotonic() - started
    # Without the budget: 4 tries x 1 s on the first row. With it: 1 s, then a try cut to the 0.5 s left.
    assert elapsed < 2.3, f"the call took {elapsed:.2f} s for a 1.5 s budget"
    assert len(rx.requests) == 2
    assert counts["failed"] == 2 and counts["waiting"] == 0, "the second row waits behind the first"


def test_failing_endpoint_waits_out_its_backoff_which_grows_across_calls(tmp_path):
    T0 = _minute_ahead()
    con = _outbox(tmp_path)
    with WebhookReceiver() as rx:
        rx.mode = 500
        hook = lambda plant_id: rx.url  # noqa: E731
        deliver_outbox(con, hook, max_attempts=2, backoff_seconds=1, sleep=lambda s: None, clock=lambda: T0)
        assert len(rx.requests) == 2
        # 2 attempts so far: the row waits 1 s x 2^2 = 4 s.
        assert _rows(con)[0][1:] == ("pending", 2, "HTTP 500 Internal Server Error: payload rejected: schema mismatch",
                                     T0 + timedelta(seconds=4))
        counts = deliver_outbox(con, hook, max_attempts=2, backoff_seconds=1, sleep=lambda s: None,
                                clock=lambda: T0 + timedelta(seconds=3))
        assert len(rx.requests) == 2, "within the backoff the endpoint is not contacted"
        assert counts["waiting"] == 1 and counts["failed"] == 0
        deliver_outbox(con, hook, max_attempts=2, backoff_seconds=1, sleep=lambda s: None,
                       clock=lambda: T0 + timedelta(seconds=5))
        assert len(rx.requests) == 4
        # 4 attempts so far: now it waits 1 s x 2^4 = 16 s.
        assert _rows(con)[0][4] == T0 + timedelta(seconds=5 + 16)


def test_permanent_4xx_is_rejected_with_its_reason_and_never_retried(tmp_path):
    T0 = _minute_ahead()
    con = _outbox(tmp_path)
    with WebhookReceiver() as rx:
        rx.mode = 422
        hook = lambda plant_id: rx.url  # noqa: E731
        counts = deliver_outbox(con, hook, clock=lambda: T0)
        assert counts["rejected"] == 1 and len(rx.requests) == 1
        assert _rows(con)[0][1:4] == ("rejected", 1, "HTTP 422 Unprocessable Entity: payload rejected: schema mismatch")
        rx.mode = "up"
        assert deliver_outbox(con, hook, clock=lambda: T0 + timedelta(days=1))["delivered"] == 0
        assert len(rx.requests) == 1, "a rejected row is not sent again"


def test_host_outside_the_allow_list_is_never_contacted(tmp_path, monkeypatch):
    con = _outbox(tmp_path)
    with WebhookReceiver() as rx:
        hook = lambda plant_id: rx.url  # noqa: E731
        monkeypatch.setenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", "alerts.example.com")
        counts = deliver_outbox(con, hook)
        assert counts["refused"] == 1 and rx.requests == []
        assert _rows(con)[0][1:4] == (
            "refused", 0, "webhook host '127.0.0.1' is not allowed: add it to PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS "
            "(now: alerts.example.com) if it is your alert receiver")
        # Once the operator allows the host, the kept row is delivered.
        monkeypatch.setenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", "alerts.example.com, 127.0.0.1")
        assert deliver_outbox(con, hook)["delivered"] == 1
    assert list(rx.accepted) == ["a-c0:1"]


def test_short_connections_are_closed_while_posting(tmp_path, monkeypatch):
    """The notifier asset's way: the warehouse is open to read and to write, never during a POST."""
    from contextlib import contextmanager

    from plant_assets.operations.alerts import outbox

    _outbox(tmp_path).close()
    opened: list[str] = []
    open_during_post: list[bool] = []

    @contextmanager
    def connect():
        con = duckdb.connect(str(tmp_path / "w.duckdb"))
        opened.append("open")
        try:
            yield con
        finally:
            con.close()
            opened.append("closed")

    real_post = outbox.post_within
    monkeypatch.setattr(outbox, "post_within", lambda *a: (open_during_post.append(opened[-1] == "open"),
                                                           real_post(*a))[1])
    with WebhookReceiver() as rx:
        counts = outbox.deliver_with_short_connections(connect, lambda plant_id: rx.url)
    assert counts["delivered"] == 1 and open_during_post == [False]
    assert opened == ["open", "closed", "open", "closed"]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert _rows(con)[0][1:3] == ("delivered", 1)
