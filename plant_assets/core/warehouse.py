"""Small helpers for reading marts and writing the `actions` schema of the DuckDB warehouse."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

LINE_ENERGY_HOURLY = "marts.fct_line_energy_hourly"


def read_line_energy_hourly(
    con: duckdb.DuckDBPyConnection, first_day: date | None = None, last_day: date | None = None
) -> pd.DataFrame:
    sql = f"select * from {LINE_ENERGY_HOURLY} where 1=1"
    params: list = []
    if first_day is not None:
        sql += " and production_date >= ?"
        params.append(first_day)
    if last_day is not None:
        sql += " and production_date <= ?"
        params.append(last_day)
    return con.execute(sql + " order by plant_id, line_id, hour_utc", params).df()


def replace_days(
    con: duckdb.DuckDBPyConnection, table: str, ddl: str, frame: pd.DataFrame, first_day: date, last_day: date
) -> int:
    """Idempotent write of a day range: delete those days, insert the new rows, in one transaction."""
    con.execute("create schema if not exists actions")
    con.execute(ddl)
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
