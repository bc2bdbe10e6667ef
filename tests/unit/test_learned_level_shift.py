"""The level-shift check learns each tag's normal day-to-day variation from the plant's kept day levels
(day_levels.LEARN_*): a steel mill's weekday/weekend swing passes, a unit change still fails. Expected factors
worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from plant_assets.core.plant_config import load_plant
from plant_assets.core.settings import REPO_ROOT
from plant_assets.quality.canonical_metrics import measure_canonical
from plant_assets.quality.day_levels import DayLevelFiles, learned_level_factors

PLANT = load_plant(REPO_ROOT / "plants" / "plant_a")
TAG = "RHF.L1.M1.CUR"  # motor current, catalog max_level_factor 3
DAY = date(2026, 9, 14)  # a Monday


def keep_levels(folder, history: list[float]) -> DayLevelFiles:
    """Kept levels of the days before DAY, newest first (history[0] is yesterday's)."""
    paths = [folder / f"d{k}.parquet" for k in range(1, 29)]
    for path, level in zip(paths, history):
        pq.write_table(pa.Table.from_pylist([{"tag": TAG, "median_value": level, "meter_rate": None}],
                                            schema=pa.schema([("tag", pa.string()), ("median_value", pa.float64()),
                                                              ("meter_rate", pa.float64())])), path)
    return DayLevelFiles(today=folder / "today.parquet", yesterday=paths[0], earlier=tuple(paths[1:]))


def weeks(n: int) -> list[float]:
    """Newest first, ending on Sunday: weekdays at 100 A, weekends at 20 A (5x lower)."""
    days = [DAY - timedelta(days=k) for k in range(1, 7 * n + 1)]
    return [20.0 if d.weekday() >= 5 else 100.0 for d in days]


def test_factor_from_the_90th_percentile_of_log_ratios(tmp_path):
    # 3 weeks: 20 ratios, 6 of them 5x (|log| = log 5), 14 of 1x; the 90th percentile (18th of 20) is log 5
    files = keep_levels(tmp_path, weeks(3))
    assert learned_level_factors(files, {TAG: "continuous"}) == {TAG: pytest.approx(2 * 5)}
    # fewer than 7 ratios (5 days kept): nothing learned, the catalog factor applies
    (tmp_path / "short").mkdir()
    short = keep_levels(tmp_path / "short", weeks(3)[:5])
    assert learned_level_factors(short, {TAG: "continuous"}) == {}


def _readings(path, level: float):
    start, end = PLANT.day_window_utc(DAY)
    stamps = [start + timedelta(minutes=m) for m in range(0, int((end - start).total_seconds() // 60), 30)]
    pq.write_table(pa.Table.from_pylist([
        {"tag": TAG, "ts_utc": ts, "value": level + (i % 3) * 0.1, "quality": "good", "status_text": None,
         "source_file": "f", "source_line": i} for i, ts in enumerate(stamps)]), path)
    return path


@pytest.mark.parametrize(("today", "learned", "passes"), [
    (100.0, True, True),  # Monday after a 20 A weekend: 5x, inside the learned 10x
    (100.0, False, False),  # without history the catalog's 3x fails the same normal Monday
    (20.0 * 25.4, True, False),  # the weekend level sent 25.4x too high (a unit change): beyond 10x
])
def test_a_weekly_swing_passes_and_a_unit_change_fails(tmp_path, today, learned, passes):
    history = weeks(3) if learned else weeks(3)[:1]  # yesterday (Sunday, 20 A) is always there
    files = keep_levels(tmp_path, history)
    yesterday_readings = tmp_path / "yesterday_readings.parquet"  # Sunday at 20 A
    pq.write_table(pa.Table.from_pylist([{"tag": TAG, "ts_utc": datetime(2026, 9, 13, 12), "value": 20.0,
                                          "quality": "good", "status_text": None, "source_file": "f",
                                          "source_line": 1}]), yesterday_readings)
    metrics = measure_canonical(PLANT, _readings(tmp_path / "today_readings.parquet", today), yesterday_readings,
                                PLANT.day_window_utc(DAY), levels=files).metrics.set_index("tag")
    shift = metrics.loc[TAG, "level_shift"]
    assert bool(shift <= 1.0) is passes, (shift, metrics.loc[TAG, "level_factor"])
    assert metrics.loc[TAG, "level_factor"] == pytest.approx(10.0 if learned else 3.0)
    assert math.isfinite(shift)


def test_temperatures_near_freezing_are_no_ratio(tmp_path):
    """An outdoor temperature alternating 0.5 and 2 degC would be a 'factor 4' day after day: near 0 degC (below the
    10 degC floor) a pair of days teaches no ratio. Only the pairs of the warm days count: 20 and 25 degC four times
    (newest first 20, 25, 20, 25, ...: 7 ratios of 1.25), so the factor is 2 x 1.25 = 2.5 (by hand)."""
    files = keep_levels(tmp_path, [20.0, 25.0] * 4 + [0.5, 2.0] * 6)
    learned = learned_level_factors(files, {TAG: "continuous"}, {TAG: (1.0, 0.0, 10.0)})
    assert learned == {TAG: pytest.approx(2 * 1.25)}
    from plant_assets.quality.canonical_metrics import ratio_floor

    assert ratio_floor("degC") == 10.0 and ratio_floor("kWh") == 0.0
