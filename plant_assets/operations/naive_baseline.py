"""The naive energy baseline: a yardstick the champion must beat, never used to score, alert or report savings.

A plant-hour's expected energy is the mean of the plant's energy over its baseline period at the same plant-local
hour of week (zoneinfo). It knows when a plant usually uses energy, not what the plant made: a day that wastes
energy while producing little can stay below it (issue 20; tests/e2e/test_energy_yardstick.py). Rows are keyed by
the local start of the row, the later of its UTC hour's start and its local day's midnight, to the minute of the
week: a zone with a half-hour offset (Asia/Kolkata) splits one UTC hour across two local days, and its two pieces
keep their own slots; a repeated fall-back hour shares its slot.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MINUTES_PER_WEEK = 7 * 24 * 60
HOUR_KEYS = ["plant_id", "hour_utc", "production_date"]


def plant_hours(line_hours: pd.DataFrame) -> pd.DataFrame:
    """Line-hours (marts.fct_line_energy_hourly: plant_id, line_id, hour_utc, production_date, energy_kwh) summed
    to plant-hours."""
    hours = line_hours.assign(production_date=pd.to_datetime(line_hours["production_date"]).dt.date)
    return hours.groupby(HOUR_KEYS, as_index=False)["energy_kwh"].sum()


def local_minute_of_week(hour_utc: pd.Series, production_date: pd.Series, tz: str) -> np.ndarray:
    """Minutes from local Monday 00:00 to each row's local start (a whole hour of week x 60 in whole-hour zones)."""
    zone = ZoneInfo(tz)
    utc = pd.to_datetime(hour_utc).reset_index(drop=True)
    utc = utc.dt.tz_localize("UTC") if utc.dt.tz is None else utc.dt.tz_convert("UTC")
    start = utc.dt.tz_convert(zone).dt.tz_localize(None).astype("datetime64[ns]")
    midnight = pd.to_datetime(production_date).reset_index(drop=True).astype("datetime64[ns]")
    local = pd.Series(np.maximum(start.to_numpy(), midnight.to_numpy()))
    return (local.dt.dayofweek * 24 * 60 + local.dt.hour * 60 + local.dt.minute).to_numpy()


def naive_expected_kwh(hours: pd.DataFrame, tz: str, baseline_start: date, baseline_end: date) -> pd.Series:
    """One plant's plant-hours -> the mean energy of its baseline-period hours in the same local slot of the week
    (NaN where the baseline never saw that slot), aligned with `hours`."""
    slot = local_minute_of_week(hours["hour_utc"], hours["production_date"], tz)
    day = pd.to_datetime(hours["production_date"]).dt.date
    in_baseline = ((day >= baseline_start) & (day <= baseline_end)).to_numpy()
    means = pd.Series(hours["energy_kwh"].to_numpy()[in_baseline]).groupby(slot[in_baseline]).mean()
    return pd.Series(means.reindex(slot).to_numpy(), index=hours.index, name="naive_expected_kwh")


def naive_daily(line_hours: pd.DataFrame, tz: str, baseline_start: date, baseline_end: date) -> pd.DataFrame:
    """One plant's days: actual_kwh, naive expected_kwh (absent, NaN, when one of the day's slots has no baseline),
    deviation = actual / expected - 1 and savings_kwh = expected - actual, as the champion's are defined."""
    hours = plant_hours(line_hours)
    hours["expected_kwh"] = naive_expected_kwh(hours, tz, baseline_start, baseline_end)
    daily = hours.groupby(["plant_id", "production_date"], as_index=False).agg(
        actual_kwh=("energy_kwh", "sum"), expected_kwh=("expected_kwh", lambda e: e.sum(min_count=len(e)))
    )
    daily["deviation"] = daily["actual_kwh"] / daily["expected_kwh"] - 1.0
    daily["savings_kwh"] = daily["expected_kwh"] - daily["actual_kwh"]
    return daily


def naive_performance(line_hours: pd.DataFrame, plants: dict) -> pd.DataFrame:
    """`naive_daily` of every configured plant in `line_hours`, each with its own time zone and baseline period."""
    frames = [
        naive_daily(rows, plants[plant_id].timezone, plants[plant_id].energy_baseline.start,
                    plants[plant_id].energy_baseline.end)
        for plant_id, rows in line_hours.groupby("plant_id") if plant_id in plants
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
