"""Reading marts of the DuckDB warehouse (the `actions` schema is written through
`plant_assets.operations.actions_tables`)."""

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

