"""The alert outbox (`actions.alert_outbox`) and its webhook delivery.

- `enqueue`: every new, escalated or resolved alert revision gets one outbox row (idempotency key =
  alert_id:revision), written in the same transaction as the alert change (`operations.alerts.store`).
- delivery in three steps, so the warehouse is never held while the network is waited on:
  `due_rows` (read) -> `send_rows` (network only) -> `record_outcomes` (write). `deliver_outbox` runs them on
  one connection; `deliver_with_short_connections` opens one connection for the read and one for the write.
  The nightly assets pass the rows and the outcomes through the lake instead (`outbox_handoff`), so the
  notifier never opens the warehouse.

Each POST has a wall-clock deadline (connect + headers + body) and a call has an overall budget. A failure
leaves the row pending with `next_attempt_at` pushed back (growing with its attempts, across calls): nothing
is lost and a dead endpoint is not hammered. A permanent 4xx marks the row `rejected` with the receiver's
reason; a host outside PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS marks it `refused` and is never contacted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.webhook_hosts import allowed_webhook_hosts, webhook_refusal
from plant_assets.operations.actions_tables import ALERT_OUTBOX, ALERTS, ensure, utc_now
from plant_assets.operations.alerts.webhook_post import post_within


def _payload(alert: dict) -> dict:
    """The alert as JSON-ready values (dates as ISO text, NaN as null, evidence parsed)."""
    out = {}
    for key, value in alert.items():
        if isinstance(value, (datetime, date, pd.Timestamp)):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        if isinstance(value, float) and pd.isna(value):
            value = None
        out[key] = value
    if isinstance(out.get("evidence"), str):
        try:
            out["evidence"] = json.loads(out["evidence"])
        except ValueError:
            pass
    return out


def enqueue(con, alert: dict, event: str, now: datetime) -> None:
    """Queue one alert event (raised / escalated / resolved) for delivery; the caller's transaction covers it.
    A revision already queued is not queued again (idempotency key = alert_id:revision)."""
    key = f"{alert['alert_id']}:{alert['revision']}"
    con.execute(
        f"""insert into {ALERT_OUTBOX} (idempotency_key, alert_id, revision, plant_id, event, payload, status,
               attempts, created_at, next_attempt_at) values (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
            on conflict do nothing""",
        [key, alert["alert_id"], alert["revision"], alert["plant_id"], event,
         json.dumps(_payload(alert | {"event": event, "idempotency_key": key})), now, now],
    )


# Statuses a call looks at: `refused` and `no_endpoint` are re-checked (the config may have been fixed).
OPEN_STATUSES = ("pending", "no_endpoint", "refused")
COUNT_KEYS = ("delivered", "failed", "rejected", "refused", "no_endpoint", "waiting", "deferred")
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True)
class OutboxRow:
    key: str
    plant_id: str
    payload: str
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str
    attempts: int
    error: str | None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


def retry_delay(backoff_seconds: float, attempts: int) -> float:
    """How long a failing row waits before the next call tries it: doubles with every attempt so far."""
    return min(backoff_seconds * 2.0 ** attempts, MAX_BACKOFF_SECONDS)


def due_rows(con) -> list[OutboxRow]:
    """The open outbox rows, oldest first (whether each is due is decided by `send_rows`)."""
    ensure(con, ALERTS, ALERT_OUTBOX)
    rows = con.execute(
        f"select idempotency_key, plant_id, payload, attempts, next_attempt_at from {ALERT_OUTBOX} "
        f"where status in {OPEN_STATUSES} order by created_at, idempotency_key"
    ).fetchall()
    return [OutboxRow(*row) for row in rows]


def send_rows(
    rows: list[OutboxRow],
    webhook_for: Callable[[str], str | None],
    max_attempts: int = 4,
    backoff_seconds: float = 0.5,
    timeout_seconds: float = 5.0,
    budget_seconds: float = 60.0,
    allowed_hosts: Collection[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[list[Outcome], dict[str, int]]:
    """Post the due rows (no database here). Per row: up to `max_attempts` tries, each within
    `timeout_seconds` wall-clock, with exponential backoff in between; the whole call stops starting new
    tries after `budget_seconds` (the rows left are `deferred` to the next call, untouched).
    Rows of an endpoint keep their order: behind a row that waits (`waiting`) or failed in this call (counted
    `failed`, and given the same next_attempt_at), later rows wait too."""
    allowed = allowed_webhook_hosts() if allowed_hosts is None else allowed_hosts
    counts = dict.fromkeys(COUNT_KEYS, 0)
    outcomes: list[Outcome] = []
    budget_end = time.monotonic() + budget_seconds
    held: dict[str, datetime | None] = {}  # endpoint -> until when its later rows wait
    now = clock()
    for index, row in enumerate(rows):
        url = webhook_for(row.plant_id)
        if not url:
            outcomes.append(Outcome(row.key, "no_endpoint", row.attempts, "no endpoint configured"))
            counts["no_endpoint"] += 1
            continue
        refusal = webhook_refusal(url, allowed)
        if refusal:
            outcomes.append(Outcome(row.key, "refused", row.attempts, refusal))
            counts["refused"] += 1
            continue
        if url in held:
            if held[url] is None:  # the row ahead waits out its backoff: so does this one
                counts["waiting"] += 1
            else:  # the endpoint failed in this call: not delivered, and it waits as long as the row ahead
                counts["failed"] += 1
                outcomes.append(Outcome(row.key, "pending", row.attempts, "waiting behind an earlier alert "
                                        "to the same endpoint, which failed", held[url]))
            continue
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            held[url] = None
            counts["waiting"] += 1
            continue
        if time.monotonic() >= budget_end:
            counts["deferred"] += len(rows) - index
            break
        outcome = _try_row(row, url, max_attempts, backoff_seconds, timeout_seconds, budget_end, sleep, clock)
        outcomes.append(outcome)
        counts[{"delivered": "delivered", "rejected": "rejected"}.get(outcome.status, "failed")] += 1
        if outcome.status == "pending":
            held[url] = outcome.next_attempt_at
    return outcomes, counts


def _try_row(row: OutboxRow, url: str, max_attempts: int, backoff_seconds: float, timeout_seconds: float,
             budget_end: float, sleep: Callable[[float], None], clock: Callable[[], datetime]) -> Outcome:
    attempts, result = row.attempts, None
    headers = {"Content-Type": "application/json", "Idempotency-Key": row.key}
    for attempt in range(max_attempts):
        left = budget_end - time.monotonic()
        if left <= 0:
            break
        attempts += 1
        result = post_within(url, row.payload, headers, min(timeout_seconds, left))
        if result.error is None:
            return Outcome(row.key, "delivered", attempts, None, delivered_at=clock())
        if result.permanent:  # the receiver rejects this body: retrying it will not help
            return Outcome(row.key, "rejected", attempts, result.error)
        if attempt < max_attempts - 1:
            pause = backoff_seconds * 2 ** attempt
            if time.monotonic() + pause >= budget_end:
                break
            sleep(pause)
    error = result.error if result else "the call's time budget ran out before a try"
    return Outcome(row.key, "pending", attempts, error, clock() + timedelta(seconds=retry_delay(backoff_seconds, attempts)))


def record_outcomes(con, outcomes: list[Outcome]) -> None:
    """Write what `send_rows` found, in one transaction."""
    ensure(con, ALERTS, ALERT_OUTBOX)
    con.execute("begin")
    try:
        for o in outcomes:
            con.execute(
                f"update {ALERT_OUTBOX} set status = ?, attempts = ?, last_error = ?, "
                "next_attempt_at = coalesce(?, next_attempt_at), delivered_at = coalesce(?, delivered_at) "
                "where idempotency_key = ?",
                [o.status, o.attempts, o.error, o.next_attempt_at, o.delivered_at, o.key],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def deliver_outbox(con, webhook_for: Callable[[str], str | None], **options) -> dict[str, int]:
    """Deliver the due outbox rows on one connection (held during the network calls: for tests and
    single-user tools). `options` are those of `send_rows`. The receiver de-duplicates on the
    `Idempotency-Key` header (alert_id:revision)."""
    outcomes, counts = send_rows(due_rows(con), webhook_for, **options)
    record_outcomes(con, outcomes)
    return counts


def deliver_with_short_connections(
    connect: Callable[[], AbstractContextManager], webhook_for: Callable[[str], str | None], **options
) -> dict[str, int]:
    """As `deliver_outbox`, but the warehouse is open only to read the rows and to write the outcomes,
    never while a webhook is waited on. A crash in between re-sends those rows next time (idempotent)."""
    with connect() as con:
        rows = due_rows(con)
    outcomes, counts = send_rows(rows, webhook_for, **options)
    if outcomes:
        with connect() as con:
            record_outcomes(con, outcomes)
    return counts


def webhooks(plants: dict[str, PlantConfig]) -> Callable[[str], str | None]:
    """plant_id -> the plant's webhook URL (None when it has none), for `deliver_outbox`."""
    return lambda plant_id: getattr(plants.get(plant_id), "webhook_url", None)
