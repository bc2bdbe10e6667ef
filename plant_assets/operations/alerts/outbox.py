"""The alert outbox (`actions.alert_outbox`) and its webhook delivery.

- `enqueue`: every new, escalated or resolved alert revision gets one outbox row (idempotency key =
  alert_id:revision), written in the same transaction as the alert change (`operations.alerts.store`).
- `deliver_outbox` posts pending outbox rows as JSON to the plant's webhook with retries, exponential
  backoff and timeouts; a failure leaves the row pending (nothing is lost), a later call resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import ALERT_OUTBOX, ALERTS, ensure, utc_now


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


def deliver_outbox(
    con,
    webhook_for: Callable[[str], str | None],
    max_attempts: int = 4,
    backoff_seconds: float = 0.5,
    timeout_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    client=None,
) -> dict[str, int]:
    """Post every pending outbox row to its plant's webhook (oldest first). Per row: up to `max_attempts`
    tries with exponential backoff; a row that still fails stays pending with its error (retried on the
    next call). Rows of plants without a webhook are marked 'no_endpoint' (kept; delivered once one is set).
    The receiver de-duplicates on the `Idempotency-Key` header (alert_id:revision)."""
    import httpx

    ensure(con, ALERTS, ALERT_OUTBOX)
    counts = {"delivered": 0, "failed": 0, "no_endpoint": 0}
    rows = con.execute(
        f"select idempotency_key, plant_id, payload, attempts from {ALERT_OUTBOX} "
        "where status in ('pending', 'no_endpoint') order by created_at, idempotency_key"
    ).fetchall()
    own_client = client is None
    client = client or httpx.Client(timeout=timeout_seconds)
    down: set[str] = set()  # endpoints that failed this call: later rows wait for the next call (keeps order)
    try:
        for key, plant_id, payload, attempts in rows:
            url = webhook_for(plant_id)
            if not url:
                con.execute(f"update {ALERT_OUTBOX} set status = 'no_endpoint', last_error = 'no endpoint configured' "
                            "where idempotency_key = ?", [key])
                counts["no_endpoint"] += 1
                continue
            if url in down:
                counts["failed"] += 1
                continue
            error = None
            for attempt in range(max_attempts):
                attempts += 1
                try:
                    response = client.post(url, content=payload, headers={
                        "Content-Type": "application/json", "Idempotency-Key": key})
                    if response.status_code < 300 or response.status_code == 409:
                        error = None
                        break
                    error = f"HTTP {response.status_code}"
                    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                        break  # the receiver rejects it: retrying the same body will not help
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if attempt < max_attempts - 1:
                    sleep(backoff_seconds * 2 ** attempt)
            now = utc_now()
            if error is None:
                con.execute(f"update {ALERT_OUTBOX} set status = 'delivered', attempts = ?, delivered_at = ?, "
                            "last_error = null where idempotency_key = ?", [attempts, now, key])
                counts["delivered"] += 1
            else:
                con.execute(f"update {ALERT_OUTBOX} set status = 'pending', attempts = ?, last_error = ?, "
                            "next_attempt_at = ? where idempotency_key = ?",
                            [attempts, error, now + timedelta(seconds=backoff_seconds * 2 ** max_attempts), key])
                counts["failed"] += 1
                down.add(url)
    finally:
        if own_client:
            client.close()
    return counts


def webhooks(plants: dict[str, PlantConfig]) -> Callable[[str], str | None]:
    """plant_id -> the plant's webhook URL (None when it has none), for `deliver_outbox`."""
    return lambda plant_id: getattr(plants.get(plant_id), "webhook_url", None)
