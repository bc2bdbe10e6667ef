"""The naive energy baseline (the yardstick of issue 20): the mean of the baseline period's energy at the same
plant-local hour of week, worked by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from plant_assets.operations.naive_baseline import local_minute_of_week, naive_daily

BERLIN = "Europe/Berlin"  # UTC+2 in September 2026: local 08:00 is 06:00 UTC


def _rows(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """(line_id, hour_utc, production_date, energy_kwh) of plant p."""
    frame = pd.DataFrame(rows, columns=["line_id", "hour_utc", "production_date", "energy_kwh"])
    return frame.assign(plant_id="p", hour_utc=pd.to_datetime(frame["hour_utc"]))


def test_mean_of_the_same_local_hour_of_week_in_the_baseline():
    # Baseline 2026-09-07 (Mon) .. 09-14 (Mon). Mondays 08:00 local: 4 + 6 = 10 kWh and 14 kWh -> mean 12;
    # Mondays 09:00 local: 20 and 30 -> 25. Tuesday 08:00 (100 kWh) is another hour of week, and the Monday
    # before the baseline (09-00 hour, 1000 kWh) is outside it: neither counts.
    hours = _rows(
        ("L1", "2026-09-07 06:00", "2026-09-07", 4.0), ("L2", "2026-09-07 06:00", "2026-09-07", 6.0),
        ("L1", "2026-09-07 07:00", "2026-09-07", 20.0),
        ("L1", "2026-09-08 06:00", "2026-09-08", 100.0),
        ("L1", "2026-08-31 07:00", "2026-08-31", 1000.0),
        ("L1", "2026-09-14 06:00", "2026-09-14", 14.0), ("L1", "2026-09-14 07:00", "2026-09-14", 30.0),
        # the reporting Monday: 16 + 24 = 40 kWh against 12 + 25 = 37 expected
        ("L1", "2026-09-21 06:00", "2026-09-21", 16.0), ("L1", "2026-09-21 07:00", "2026-09-21", 24.0),
    )  # fmt: skip
    daily = naive_daily(hours, BERLIN, date(2026, 9, 7), date(2026, 9, 14)).set_index("production_date")
    monday = daily.loc[date(2026, 9, 21)]
    assert monday["actual_kwh"] == 40.0 and monday["expected_kwh"] == pytest.approx(37.0)
    assert monday["deviation"] == pytest.approx(40 / 37 - 1) and monday["savings_kwh"] == pytest.approx(-3.0)
    assert daily.loc[date(2026, 9, 7), "expected_kwh"] == pytest.approx(12.0 + 25.0)


def test_a_day_with_an_hour_the_baseline_never_saw_has_no_naive_expectation():
    # Wednesday 08:00 local was never in the baseline (only Mondays): the day's expectation is absent, not partial.
    hours = _rows(("L1", "2026-09-07 06:00", "2026-09-07", 10.0),
                  ("L1", "2026-09-16 06:00", "2026-09-16", 10.0), ("L1", "2026-09-21 06:00", "2026-09-21", 11.0))
    daily = naive_daily(hours, BERLIN, date(2026, 9, 7), date(2026, 9, 14)).set_index("production_date")
    assert pd.isna(daily.loc[date(2026, 9, 16), "expected_kwh"]) and pd.isna(daily.loc[date(2026, 9, 16), "deviation"])
    assert daily.loc[date(2026, 9, 21), "expected_kwh"] == 10.0


def test_slots_follow_local_time_and_split_half_hour_zones_at_local_midnight():
    # Kolkata (+05:30): UTC 18:00 of Mon 09-07 is local 23:30 Mon (the row of 09-07) and 00:00 Tue (the row of
    # 09-08, its local day starts at midnight); UTC 19:00 is local 00:30 Tue.
    slots = local_minute_of_week(pd.Series(pd.to_datetime(["2026-09-07 18:00", "2026-09-07 18:00", "2026-09-07 19:00"])),
                                 pd.Series(["2026-09-07", "2026-09-08", "2026-09-08"]), "Asia/Kolkata")
    assert list(slots) == [23 * 60 + 30, 24 * 60, 24 * 60 + 30]
    # Chicago after the fall-back (2026-11-01): UTC 06:00 and 07:00 are both local 01:00 Sunday, one slot.
    slots = local_minute_of_week(pd.Series(pd.to_datetime(["2026-11-01 06:00", "2026-11-01 07:00"])),
                                 pd.Series(["2026-11-01", "2026-11-01"]), "America/Chicago")
    assert list(slots) == [6 * 24 * 60 + 60] * 2
