"""The alerts table (`actions.alerts`): de-duplication and the lifecycle open -> acknowledged -> resolved.

- A *condition* (plant, kind, asset) that persists updates one open alert instead of raising a new one each
  night (energy intensity is a daily KPI, so its condition also carries the production day).
- Lifecycle: open -> acknowledged -> resolved (`plant-assets alerts ack/resolve`). Re-runs never touch
  status, acknowledged_at/by or resolved_at/by.
- Automatic resolution (`auto_resolve`): once the condition has been clear on the plant's
  `alerting.auto_resolve_days` evaluated days in a row, an open or acknowledged alert is resolved with
  resolved_by = 'auto' and a resolution_reason, and a "resolved" event goes through the outbox.
- Every new or escalated alert gets a new revision and a row in `actions.alert_outbox` (idempotency key =
  alert_id:revision) in the same transaction as the alert change (`operations.alerts.outbox`).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import ALERT_OUTBOX, ALERTS, ensure, utc_now
from plant_assets.operations.alerts.outbox import enqueue

SEVERITY_RANK = {"info": 0, "yellow": 1, "warning": 1, "red": 2, "critical": 2}
ACTIVE = ("open", "acknowledged")


def condition_key(plant_id: str, kind: str, asset_path: str, day: date | None = None) -> str:
    """What de-duplicates alerts: one open alert per plant, kind and asset (and day, for a daily condition)."""
    parts = [plant_id, kind, asset_path] + ([str(day)] if day is not None else [])
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def ensure_tables(con) -> None:
    """actions.alerts and actions.alert_outbox (written in one transaction)."""
    ensure(con, ALERTS, ALERT_OUTBOX)


def upsert_alerts(con, candidates: pd.DataFrame) -> dict[str, int]:
    """Merge candidate alerts (one row per condition and day, columns of actions.alerts plus `condition_key`)
    into actions.alerts, in one transaction with the outbox. Returns counts of new / escalated / updated."""
    ensure_tables(con)
    counts = {"new": 0, "escalated": 0, "updated": 0}
    if candidates is None or not len(candidates):
        return counts
    now = utc_now()
    frame = candidates.sort_values("production_date")
    con.execute("begin")
    try:
        for key, rows in frame.groupby("condition_key", sort=False):
            rows = rows.sort_values("production_date")
            current = con.execute(
                f"select * from {ALERTS} where condition_key = ? and status in ('open', 'acknowledged') "
                "order by raised_at desc limit 1", [key]
            ).df()
            for rec in rows.to_dict("records"):
                day = pd.Timestamp(rec["production_date"]).date()
                if current.empty:
                    # A resolved condition that comes back is a new alert (a new alert_id); a re-run of a day
                    # a resolved alert already covered is not.
                    previous, covered = con.execute(
                        f"select count(*), max(last_seen_date) from {ALERTS} where condition_key = ?", [key]
                    ).fetchone()
                    if covered is not None and day <= pd.Timestamp(covered).date():
                        continue
                    alert = dict(rec)
                    alert.update(
                        alert_id=hashlib.sha256(f"{key}|{previous}".encode()).hexdigest()[:20] if previous else
                        rec.get("alert_id") or key,
                        condition_key=key, revision=1, first_seen_date=day, last_seen_date=day, status="open",
                        raised_at=rec.get("raised_at") or now, updated_at=now,
                    )
                    columns = [c for c in alert if c in _alert_columns(con)]
                    con.execute(
                        f"insert into {ALERTS} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                        [alert[c] for c in columns],
                    )
                    enqueue(con, alert, "raised", now)
                    counts["new"] += 1
                    current = pd.DataFrame([alert])
                    continue
                existing = current.iloc[0].to_dict()
                last_seen = pd.Timestamp(existing["last_seen_date"]).date() if pd.notna(existing.get("last_seen_date")) else day
                escalated = SEVERITY_RANK.get(rec["severity"], 0) > SEVERITY_RANK.get(existing["severity"], 0)
                if day < last_seen and not escalated:
                    continue  # a re-run of an older day: the alert already reflects a later one
                revision = int(existing["revision"] or 1) + (1 if escalated else 0)
                severity = rec["severity"] if escalated or day >= last_seen else existing["severity"]
                if SEVERITY_RANK.get(existing["severity"], 0) > SEVERITY_RANK.get(rec["severity"], 0):
                    severity = existing["severity"]  # an open alert never de-escalates on its own
                update = {
                    "severity": severity, "revision": revision, "last_seen_date": max(day, last_seen),
                    "production_date": max(day, last_seen), "title": rec["title"],
                    "recommended_action": rec["recommended_action"], "evidence": rec.get("evidence"),
                    "explanation": rec.get("explanation"), "updated_at": now,
                }
                for column in ("model_name", "model_version"):  # a run without the model's version keeps the known one
                    if rec.get(column) is not None and not (isinstance(rec[column], float) and pd.isna(rec[column])):
                        update[column] = rec[column]
                sets = ", ".join(f"{c} = ?" for c in update)
                con.execute(f"update {ALERTS} set {sets} where alert_id = ?", [*update.values(), existing["alert_id"]])
                existing.update(update)
                if escalated:
                    # Escalation re-opens the conversation: a new revision is delivered again.
                    enqueue(con, existing, "escalated", now)
                    counts["escalated"] += 1
                else:
                    counts["updated"] += 1
                current = pd.DataFrame([existing])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts


def _alert_columns(con) -> set[str]:
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'actions' and table_name = 'alerts'"
    ).fetchall()}


def list_alerts(con, plant_id: str | None = None, status: str | None = None) -> pd.DataFrame:
    ensure_tables(con)
    sql = f"select * from {ALERTS} where 1=1"
    params: list = []
    if plant_id:
        sql += " and plant_id = ?"
        params.append(plant_id)
    if status:
        sql += " and status = ?"
        params.append(status)
    return con.execute(sql + " order by plant_id, raised_at", params).df()


def _transition(con, alert_id: str, allowed: tuple[str, ...], sets: str, params: list) -> str:
    ensure_tables(con)
    row = con.execute(f"select status from {ALERTS} where alert_id = ?", [alert_id]).fetchone()
    if row is None:
        raise KeyError(f"no alert {alert_id}")
    if row[0] not in allowed:
        raise ValueError(f"alert {alert_id} is {row[0]}")
    con.execute(f"update {ALERTS} set {sets} where alert_id = ?", [*params, alert_id])
    return con.execute(f"select status from {ALERTS} where alert_id = ?", [alert_id]).fetchone()[0]


def acknowledge(con, alert_id: str, by: str, at: datetime | None = None) -> str:
    return _transition(con, alert_id, ("open",), "status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?",
                       [at or utc_now(), by])


def resolve(con, alert_id: str, by: str, at: datetime | None = None) -> str:
    return _transition(con, alert_id, ACTIVE, "status = 'resolved', resolved_at = ?, resolved_by = ?", [at or utc_now(), by])


CLEAR_COLUMNS = ["plant_id", "kind", "asset_path", "production_date", "reason"]


def auto_resolve(con, clear: pd.DataFrame, plants: dict[str, PlantConfig], now: datetime | None = None) -> int:
    """Resolve every open or acknowledged alert whose condition has been clear on the plant's
    `alerting.auto_resolve_days` evaluated days since it was last seen (any alert of the same plant, kind and
    asset counts as the condition, so a daily energy alert waits for the days after the last bad day). The count
    is kept on the alert (clear_days, last_clear_date), so nightly runs of one day each add up; a re-run of a
    day already counted adds nothing.
    `clear`: CLEAR_COLUMNS, one row per evaluated day on which the condition was clear, with the reason in
    words (e.g. "energy intensity within tolerance"). Queues a "resolved" event per resolved alert; returns
    how many were resolved."""
    ensure_tables(con)
    if clear is None or clear.empty:
        return 0
    active = con.execute(f"select * from {ALERTS} where status in ('open', 'acknowledged')").df()
    if active.empty:
        return 0
    now = now or utc_now()
    last_condition = {
        (p, k, a): pd.Timestamp(d).date()
        for p, k, a, d in con.execute(
            f"select plant_id, kind, asset_path, max(last_seen_date) from {ALERTS} group by all").fetchall()
        if d is not None
    }
    clear = clear.assign(production_date=pd.to_datetime(clear["production_date"]).dt.date)
    by_family = {key: rows for key, rows in clear.groupby(["plant_id", "kind", "asset_path"])}
    resolved = 0
    con.execute("begin")
    try:
        for alert in active.to_dict("records"):
            plant = plants.get(alert["plant_id"])
            family = (alert["plant_id"], alert["kind"], alert["asset_path"])
            if plant is None or family not in by_family:
                continue
            rows = by_family[family]
            withdrawn = _withdrawn(alert, rows, now)
            if withdrawn:
                con.execute(f"update {ALERTS} set {', '.join(f'{c} = ?' for c in withdrawn)} where alert_id = ?",
                            [*withdrawn.values(), alert["alert_id"]])
                enqueue(con, alert | withdrawn, "resolved", now)
                resolved += 1
                continue
            since = last_condition.get(family) or pd.Timestamp(alert["production_date"]).date()
            streak, last_clear = alert.get("clear_days"), alert.get("last_clear_date")
            if pd.isna(last_clear) or pd.Timestamp(last_clear).date() <= since:
                streak, last_clear = 0, since  # the condition was seen again: the count starts over
            else:
                streak, last_clear = int(streak or 0), pd.Timestamp(last_clear).date()
            days = sorted(set(rows.loc[rows["production_date"] > last_clear, "production_date"]))
            need = plant.alerting.auto_resolve_days
            update: dict = {}
            for day in days:
                streak, last_clear = streak + 1, day
                if streak >= need:
                    why = rows.loc[rows["production_date"] == day, "reason"].iloc[0]
                    update = {"status": "resolved", "resolved_at": now, "resolved_by": "auto",
                              "resolution_reason": f"{why} on {need} evaluated day(s) in a row, the last on {day}",
                              "revision": int(alert["revision"] or 1) + 1}
                    break
            if not days:
                continue
            update |= {"clear_days": streak, "last_clear_date": last_clear, "updated_at": now}
            sets = ", ".join(f"{c} = ?" for c in update)
            con.execute(f"update {ALERTS} set {sets} where alert_id = ?", [*update.values(), alert["alert_id"]])
            if update.get("status") == "resolved":
                enqueue(con, alert | update, "resolved", now)
                resolved += 1
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return resolved


def _withdrawn(alert: dict, clear_rows: pd.DataFrame, now: datetime) -> dict:
    """The update resolving an alert whose own days, evaluated again, are all clear (a corrected re-delivery or a
    new model changed them): its evidence is gone, so it is withdrawn at once rather than after
    `auto_resolve_days` further days. Empty when any day it was seen on is not among the clear ones."""
    def day(column: str) -> date:
        value = alert.get(column)
        return pd.Timestamp(value if pd.notna(value) else alert["production_date"]).date()

    first, last = day("first_seen_date"), day("last_seen_date")
    seen = {d.date() for d in pd.date_range(first, last, freq="D")}
    clear_days = set(clear_rows["production_date"])
    if not seen or not seen <= clear_days:
        return {}
    why = clear_rows.loc[clear_rows["production_date"] == last, "reason"].iloc[0]
    span = str(first) if first == last else f"{first}..{last}"
    return {"status": "resolved", "resolved_at": now, "resolved_by": "auto",
            "resolution_reason": f"{why} on {span}, the day(s) it was raised for, evaluated again (their data or "
                                 "the model changed)",
            "revision": int(alert["revision"] or 1) + 1, "updated_at": now}

