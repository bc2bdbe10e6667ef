"""The energy baseline's rows: each plant's energy per UTC hour beside every candidate relevant variable
(ISO 50006) the plant maps, and the same rows summed to days.

Columns of a plant-hour (NaN where the plant does not map the source, never a made-up 0):
- energy_kwh (target), interval_minutes (metered minutes: the exposure, not a relevant variable)
- units_produced, running_minutes: from the lines' piece counters (marts.fct_line_energy_hourly), and
  running_line_<line>: each line's own running minutes (lines draw different loads while running)
- units_<family>: output per product family, free names (marts.fct_family_output_hourly)
- drv_<signal>: hourly mean of a continuous line signal (weather, flows, loads), running_minutes_by_state from
  state tags (marts.fct_plant_drivers_hourly)
- hour_of_week (plant-local, 0 = Monday 00:00), non_working_day (the plant's holidays and shutdowns),
  hdh / cdh: heating / cooling degree hours against DEGREE_BASE_C
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

ENERGY_HOURLY = "marts.fct_line_energy_hourly"
FAMILY_OUTPUT = "marts.fct_family_output_hourly"
DRIVERS = "marts.fct_plant_drivers_hourly"
KEYS = ["plant_id", "production_date", "hour_utc"]
DEGREE_BASE_C = 18.0  # ASHRAE's 65 degF balance point, for both heating and cooling degree hours / days
FAMILY_PREFIX, DRIVER_PREFIX, LINE_PREFIX = "units_", "drv_", "running_line_"


def _exists(con, table: str) -> bool:
    schema, name = table.split(".")
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0])


def _window(first_day, last_day) -> tuple[str, list]:
    sql, params = " where 1=1", []
    if first_day is not None:
        sql, params = sql + " and production_date >= ?", [*params, first_day]
    if last_day is not None:
        sql, params = sql + " and production_date <= ?", [*params, last_day]
    return sql, params


def family_column(family: str) -> str:
    return FAMILY_PREFIX + re.sub(r"[^0-9a-zA-Z_]", "_", str(family)).lower()


def line_column(line_id: str) -> str:
    return LINE_PREFIX + re.sub(r"[^0-9a-zA-Z_]", "_", str(line_id)).lower()


def driver_column(driver: str) -> str:
    return driver if driver == "running_minutes_by_state" else DRIVER_PREFIX + driver


def read_hourly(con, first_day=None, last_day=None) -> pd.DataFrame:
    """Every plant-hour with energy, its output and drivers (columns above, before calendar and weather)."""
    where, params = _window(first_day, last_day)
    hourly = con.execute(
        f"select plant_id, production_date, hour_utc, sum(energy_kwh) as energy_kwh, sum(units_produced) as units_produced,"
        f" sum(running_minutes) as running_minutes, sum(interval_minutes) as interval_minutes"
        f" from {ENERGY_HOURLY}{where} group by all order by plant_id, hour_utc, production_date", params,
    ).df()
    # One column per line, product family and driver (what the plant maps; NaN in the hours it has no value).
    wide = [(f"select plant_id, production_date, hour_utc, line_id as key, running_minutes as value"
             f" from {ENERGY_HOURLY}{where}", line_column, "sum")]
    if _exists(con, FAMILY_OUTPUT):
        wide.append((f"select plant_id, production_date, hour_utc, product_family as key, units_produced as value"
                     f" from {FAMILY_OUTPUT}{where} and product_family is not null", family_column, "sum"))
    if _exists(con, DRIVERS):
        wide.append((f"select plant_id, production_date, hour_utc, driver as key, value from {DRIVERS}{where}",
                     driver_column, "mean"))
    for sql, column_of, how in wide:
        long = con.execute(sql, params).df()
        if len(long):
            long["column"] = long["key"].map(column_of)
            columns = long.pivot_table(index=KEYS, columns="column", values="value", aggfunc=how).reset_index()
            hourly = hourly.merge(columns, on=KEYS, how="left")
    hourly.columns.name = None
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    return hourly


def with_calendar_and_weather(hourly: pd.DataFrame, plants: dict) -> pd.DataFrame:
    """Add each plant's local hour of week, its non-working days and degree hours (NaN without a temperature)."""
    parts = []
    for plant_id, rows in hourly.groupby("plant_id", sort=True):
        rows = rows.sort_values(["hour_utc", "production_date"]).copy()
        plant = plants.get(plant_id)
        zone = ZoneInfo(plant.timezone) if plant is not None else ZoneInfo("UTC")
        local = pd.to_datetime(rows["hour_utc"]).dt.tz_localize("UTC").dt.tz_convert(zone)
        rows["hour_of_week"] = (local.dt.dayofweek * 24 + local.dt.hour).astype("float64")
        calendar = getattr(plant, "calendar", None)
        days = calendar.non_working_days() if calendar is not None and calendar.configured else None
        rows["non_working_day"] = np.nan if days is None else rows["production_date"].dt.date.isin(days).astype("float64")
        # A daily or sparse reading holds until the next one within a day (degree hours need every hour).
        for column in [c for c in rows.columns if c.startswith(DRIVER_PREFIX)]:
            rows[column] = rows[column].ffill(limit=24)
        temperature = rows.get(DRIVER_PREFIX + "outdoor_temperature")
        rows["hdh"] = np.nan if temperature is None else (DEGREE_BASE_C - temperature).clip(lower=0)
        rows["cdh"] = np.nan if temperature is None else (temperature - DEGREE_BASE_C).clip(lower=0)
        parts.append(rows)
    return pd.concat(parts, ignore_index=True) if parts else hourly


def to_daily(hourly: pd.DataFrame) -> pd.DataFrame:
    """Plant-days: energy, metered minutes, output and running time summed; drivers averaged; degree days from
    the day's mean temperature; day of week and non-working day."""
    if hourly.empty:
        return hourly.assign(day_of_week=pd.Series(dtype="float64"))
    summed = [c for c in hourly.columns if c in ("energy_kwh", "interval_minutes", "units_produced", "running_minutes",
                                                  "running_minutes_by_state") or c.startswith((FAMILY_PREFIX, LINE_PREFIX))]
    averaged = [c for c in hourly.columns if c.startswith(DRIVER_PREFIX) or c == "non_working_day"]
    grouped = hourly.groupby(["plant_id", "production_date"], as_index=False)
    daily = grouped[summed].sum(min_count=1).merge(grouped[averaged].mean(), on=["plant_id", "production_date"])
    daily["day_of_week"] = daily["production_date"].dt.dayofweek.astype("float64")
    temperature = daily.get(DRIVER_PREFIX + "outdoor_temperature")
    daily["hdd"] = np.nan if temperature is None else (DEGREE_BASE_C - temperature).clip(lower=0)
    daily["cdd"] = np.nan if temperature is None else (temperature - DEGREE_BASE_C).clip(lower=0)
    return daily.rename(columns={"interval_minutes": "metered_minutes_of_day"})
