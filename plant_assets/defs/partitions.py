"""Partitions: plants come from the plants/ folder, days are plant-local production days.

Ingest is partitioned plant x day; dbt and scoring by day (all plants in one invocation); model
training by plant. A new plant folder appears as a new partition on the next code-location reload.

Days start at the earliest `history_start` of any plant (plant.yaml), else DEFAULT_FIRST_DAY: one daily
definition shared by every plant, because a MultiPartitionsDefinition has one time dimension and the dbt
and scoring assets need a time window (docs/architecture.md, "History").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import yaml

from plant_assets.core.plant_config import plant_folders
from plant_assets.core.settings import get_settings
from plant_assets.standardize.dbt_build import days_of_window

DEFAULT_FIRST_DAY = "2026-09-01"


def history_start(folder: Path) -> date | None:
    """A plant's `history_start`, read without validating the rest (a broken config must not break the
    code location; `plant validate` reports it)."""
    try:
        value = (yaml.safe_load((folder / "plant.yaml").read_text()) or {}).get("history_start")
        return value if isinstance(value, date) else date.fromisoformat(str(value)) if value else None
    except (OSError, ValueError, AttributeError, yaml.YAMLError):
        return None


def first_production_day(plants_dir: Path) -> str:
    """The first day partition: the earliest plant history_start, never later than DEFAULT_FIRST_DAY."""
    starts = [d for d in (history_start(f) for f in plant_folders(plants_dir)) if d is not None]
    return min([date.fromisoformat(DEFAULT_FIRST_DAY), *starts]).isoformat()


FIRST_PRODUCTION_DAY = first_production_day(get_settings().plants_dir)

# The day is a label of the plant's local calendar, not an instant, so the definition is in UTC and
# runs one day ahead: plants east of UTC finish their local day before the UTC day ends.
day_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_PRODUCTION_DAY, end_offset=1)


def plant_ids() -> list[str]:
    return [folder.name for folder in plant_folders(get_settings().plants_dir)]


plant_partitions = dg.StaticPartitionsDefinition(plant_ids())
plant_day_partitions = dg.MultiPartitionsDefinition({"day": day_partitions, "plant": plant_partitions})


def partition_span() -> tuple[date, date]:
    """The first and last day partition (today's last one included): the days a file of any span is cut into."""
    last = day_partitions.get_last_partition_key()
    return date.fromisoformat(FIRST_PRODUCTION_DAY), date.fromisoformat(last) if last else date.today()


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
