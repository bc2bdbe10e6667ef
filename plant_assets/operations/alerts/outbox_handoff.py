"""The outbox handed to the notifier through the lake, so webhook delivery never opens the warehouse.

DuckDB allows one writer process per file; a notifier that opened the warehouse beside another run's writer
(Celery workers) failed on the lock, and one inside pool `warehouse` held that slot while it waited on the
network. So the warehouse steps and the notifier exchange Parquet files:

- `<lake>/actions/alert_outbox/due.parquet`: the open outbox rows (`write_due`, by a warehouse step);
- `<lake>/actions/alert_outbox/outcomes/<utc time>-<uuid>.parquet`: what one notifier call found
  (`write_outcomes`); `apply_outcomes` records every file, in name (= time) order, in one transaction,
  rewrites the due list and deletes the files only after both.

Crash semantics: a notifier killed between its POSTs and its outcomes file re-sends those rows next time
(the receiver de-duplicates on Idempotency-Key); a file written but not yet applied is merged over the due list
by `read_due` (delivered rows are not sent again) and applied by the next warehouse step; a crash between the
commit and the deletes re-applies the same files in the same order next time, giving the same table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pyarrow as pa

from plant_assets.core.lake import LakePath, read_table, write_table_atomic
from plant_assets.operations.actions_tables import utc_now
from plant_assets.operations.alerts.outbox import Outcome, OutboxRow, due_rows, record_outcomes

# Statuses after which a row leaves the due list (the others are tried again by a later call).
CLOSED_STATUSES = ("delivered", "rejected")

DUE_SCHEMA = pa.schema([
    ("key", pa.string()), ("plant_id", pa.string()), ("payload", pa.string()), ("attempts", pa.int64()),
    ("next_attempt_at", pa.timestamp("us")),
])
OUTCOME_SCHEMA = pa.schema([
    ("key", pa.string()), ("status", pa.string()), ("attempts", pa.int64()), ("error", pa.string()),
    ("next_attempt_at", pa.timestamp("us")), ("delivered_at", pa.timestamp("us")),
])


def handoff_dir(lake: LakePath) -> LakePath:
    return lake / "actions" / "alert_outbox"


def due_path(lake: LakePath) -> LakePath:
    return handoff_dir(lake) / "due.parquet"


def outcomes_dir(lake: LakePath) -> LakePath:
    return handoff_dir(lake) / "outcomes"


def write_due(lake: LakePath, rows: Iterable[OutboxRow]) -> int:
    """Replace the due list (atomically: a notifier reads the old list or the new one, never half)."""
    records = [{"key": r.key, "plant_id": r.plant_id, "payload": r.payload, "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at} for r in rows]
    write_table_atomic(pa.Table.from_pylist(records, schema=DUE_SCHEMA), due_path(lake))
    return len(records)


def outcome_files(lake: LakePath) -> list[LakePath]:
    """The outcome files not yet applied, oldest first (their names start with the UTC time)."""
    folder = outcomes_dir(lake)
    if not folder.exists():
        return []
    return sorted(folder.glob("*.parquet"), key=lambda path: path.name)


def read_outcomes(path: LakePath) -> list[Outcome]:
    return [Outcome(**row) for row in read_table(path, schema=OUTCOME_SCHEMA).to_pylist()]


def write_outcomes(lake: LakePath, outcomes: list[Outcome]) -> LakePath | None:
    """One file per notifier call (none when it found nothing to record)."""
    if not outcomes:
        return None
    records = [{"key": o.key, "status": o.status, "attempts": o.attempts, "error": o.error,
                "next_attempt_at": o.next_attempt_at, "delivered_at": o.delivered_at} for o in outcomes]
    name = f"{utc_now():%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex}.parquet"
    return write_table_atomic(pa.Table.from_pylist(records, schema=OUTCOME_SCHEMA), outcomes_dir(lake) / name)


def read_due(lake: LakePath) -> list[OutboxRow]:
    """The due list with the outcome files not yet applied merged over it: a row an earlier call delivered or
    rejected is dropped; for the others attempts and next_attempt_at come from their latest outcome."""
    for _ in range(3):
        try:
            return _merged_due(lake)
        except FileNotFoundError:  # a warehouse step applied the files meanwhile (the new due list is written)
            continue
    return _merged_due(lake)


def _merged_due(lake: LakePath) -> list[OutboxRow]:
    latest: dict[str, Outcome] = {}
    # The outcomes before the due list: they are deleted only after the due list that includes them is written.
    for file in outcome_files(lake):
        latest.update((o.key, o) for o in read_outcomes(file))
    path = due_path(lake)
    if not path.exists():
        return []
    rows = []
    for record in read_table(path, schema=DUE_SCHEMA).to_pylist():
        row = OutboxRow(**record)
        outcome = latest.get(row.key)
        if outcome is not None:
            if outcome.status in CLOSED_STATUSES:
                continue
            # as record_outcomes: an outcome without a next try keeps the row's own
            row = OutboxRow(row.key, row.plant_id, row.payload, outcome.attempts,
                            outcome.next_attempt_at or row.next_attempt_at)
        rows.append(row)
    return rows


def apply_outcomes(con, lake: LakePath) -> dict[str, int]:
    """The warehouse side of the handoff: record every outcome file, in name order and in one transaction;
    write the due list afresh from the warehouse; only then delete the files. A crash before the deletes
    re-applies the same files in the same order next time (same end state), and a notifier reading meanwhile
    sees the files with either due list."""
    files = outcome_files(lake)
    outcomes = [o for file in files for o in read_outcomes(file)]
    if files:
        record_outcomes(con, outcomes)
    due = write_due(lake, due_rows(con))
    for file in files:
        file.unlink()
    return {"outcomes_applied": len(outcomes), "due": due}
