"""The tables of the warehouse's `actions` schema: their names, DDL and column migrations, and the two ways
they are written. Every writer goes through here.

- Day-range tables (`replace_days`): actions.energy_performance.
- Row-by-row tables (`ensure`, then the writer's own SQL): actions.alerts (lifecycle in
  `operations.alerts.store`) and actions.alert_outbox (`operations.alerts.outbox`).
- Whole tables shaped by their frame (`replace_table`): actions.energy_savings, actions.energy_savings_monthly
  and actions.rollout_scorecard (`operations.rollout_scorecard`).

actions.model_incidents is created by its writer from `ml.drift.INCIDENTS_DDL` (the ml package does
not import plant_assets).

Timestamps in these tables are naive UTC (`utc_now`).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb
import pandas as pd

SCHEMA = "actions"
ENERGY_PERFORMANCE = "actions.energy_performance"
ALERTS = "actions.alerts"
ALERT_OUTBOX = "actions.alert_outbox"
ENERGY_SAVINGS = "actions.energy_savings"
ENERGY_SAVINGS_MONTHLY = "actions.energy_savings_monthly"
ROLLOUT_SCORECARD = "actions.rollout_scorecard"

DDL = {
    ENERGY_PERFORMANCE: f"""
create table if not exists {ENERGY_PERFORMANCE} (
    plant_id varchar not null,
    production_date date not null,
    actual_kwh double,
    expected_kwh double,
    units_produced double,
    actual_kwh_per_unit double,
    expected_kwh_per_unit double,
    deviation double,
    tolerance double,
    model_name varchar,
    model_version varchar,
    scored_at timestamp,
    top_drivers json,
    primary key (plant_id, production_date)
)""",
    ALERTS: f"""
create table if not exists {ALERTS} (
    alert_id varchar primary key,
    plant_id varchar not null,
    production_date date not null,
    asset_path varchar not null,
    kind varchar not null,
    severity varchar not null,
    owner_role varchar not null,
    owner varchar not null,
    title varchar not null,
    recommended_action varchar not null,
    evidence json,
    model_name varchar,
    model_version varchar,
    status varchar not null,
    raised_at timestamp not null
)""",
    ALERT_OUTBOX: f"""
create table if not exists {ALERT_OUTBOX} (
    idempotency_key varchar primary key,
    alert_id varchar not null,
    revision integer not null,
    plant_id varchar not null,
    event varchar not null,
    payload json not null,
    status varchar not null,
    attempts integer not null default 0,
    last_error varchar,
    created_at timestamp not null,
    next_attempt_at timestamp,
    delivered_at timestamp
)""",
}

# Columns added after a table was first released (idempotent migrations, applied by `ensure`).
ADDED_COLUMNS = {
    # Tables created before explanations existed get the column.
    ENERGY_PERFORMANCE: {"top_drivers": "json"},
    # The alert lifecycle (de-duplication, acknowledgement, resolution) on the original actions.alerts.
    ALERTS: {
        "condition_key": "varchar",
        "revision": "integer",
        "first_seen_date": "date",
        "last_seen_date": "date",
        "explanation": "varchar",
        "updated_at": "timestamp",
        "acknowledged_at": "timestamp",
        "acknowledged_by": "varchar",
        "resolved_at": "timestamp",
        "resolved_by": "varchar",
        "resolution_reason": "varchar",
        # Evaluated days with the condition clear since it was last seen (automatic resolution counts them).
        "clear_days": "integer",
        "last_clear_date": "date",
    },
}


def utc_now() -> datetime:
    """Now, as the actions tables store time: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def ensure(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Create the schema and these tables if missing, and add the columns they gained since."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for table in tables:
        con.execute(DDL[table])
        for column, kind in ADDED_COLUMNS.get(table, {}).items():
            con.execute(f"alter table {table} add column if not exists {column} {kind}")


def replace_days(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, first_day: date, last_day: date
) -> int:
    """Idempotent write of a day range: delete those days, insert the new rows, in one transaction."""
    ensure(con, table)
    con.execute("begin")
    try:
        con.execute(f"delete from {table} where production_date between ? and ?", [first_day, last_day])
        if len(frame):
            con.register("incoming_rows", frame)
            columns = ", ".join(frame.columns)
            con.execute(f"insert into {table} ({columns}) select {columns} from incoming_rows")
            con.unregister("incoming_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(frame)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace a whole (small) table atomically; its columns are the frame's."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("begin")
    try:
        con.register("incoming_rows", frame)
        con.execute(f"create or replace table {table} as select * from incoming_rows")
        con.unregister("incoming_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(frame)
