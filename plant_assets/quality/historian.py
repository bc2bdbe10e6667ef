"""The raw and canonical gates' metrics of one historian plant-day, measured together: the canonical pass
proves the good readings hold no duplicate key, which spares the raw pass grouping them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.settings import work_connection
from plant_assets.quality.canonical_metrics import measure_canonical
from plant_assets.quality.day_levels import DayLevelFiles
from plant_assets.quality.raw_metrics import raw_day_metrics


@dataclass
class HistorianDayMetrics:
    raw: pd.DataFrame  # one row: the raw_historian suite's metrics
    canonical: pd.DataFrame  # one row per mapped tag: the canonical_signals suite's metrics


def historian_day_metrics(
    plant: PlantConfig, readings: Path, reconciliation: Path, yesterday: Path | None,
    window: tuple[datetime, datetime], levels: DayLevelFiles | None = None,
) -> HistorianDayMetrics:
    with work_connection(ordered=True) as con:  # one connection: each costs ~15 ms to open
        canonical = measure_canonical(plant, readings, yesterday, window, con, levels)
        raw = raw_day_metrics(readings, reconciliation, window, canonical.good_readings_unique, con)
    return HistorianDayMetrics(raw=raw, canonical=canonical.metrics)
