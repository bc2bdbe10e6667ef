"""Partitions: plants come from the plants/ folder, days are plant-local production days.

Ingest is partitioned plant x day; dbt and scoring by day (all plants in one invocation); model
training by plant. A new plant folder appears as a new partition on the next code-location reload.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from plant_assets.core.plant_config import plant_folders
from plant_assets.core.settings import get_settings
from plant_assets.standardize.dbt_build import days_of_window

FIRST_PRODUCTION_DAY = "2026-09-01"

# The day is a label of the plant's local calendar, not an instant, so the definition is in UTC and
# runs one day ahead: plants east of UTC finish their local day before the UTC day ends.
day_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_PRODUCTION_DAY, end_offset=1)


def plant_ids() -> list[str]:
    return [folder.name for folder in plant_folders(get_settings().plants_dir)]


plant_partitions = dg.StaticPartitionsDefinition(plant_ids())
plant_day_partitions = dg.MultiPartitionsDefinition({"day": day_partitions, "plant": plant_partitions})


def partition_day_range(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[date, date]:
    """The inclusive production-day range of a run of a day-partitioned asset or check: one day, or a backfill's."""
    window = context.partition_time_window
    return days_of_window(window.start, window.end)


def plant_day_key(plant_id: str, day: date | str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"day": str(day), "plant": plant_id})


def split_plant_day(partition_key: str | dg.MultiPartitionKey) -> tuple[str, date]:
    keys = partition_key.keys_by_dimension if isinstance(partition_key, dg.MultiPartitionKey) else None
    if keys is None:
        day, plant = str(partition_key).split("|")
        return plant, date.fromisoformat(day)
    return keys["plant"], date.fromisoformat(keys["day"])
