"""The plant-local production day: which day is complete, in the plant's own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from plant_assets.core.plant_config import PlantConfig

# Exports of a day are expected within this grace period after local midnight.
GRACE = timedelta(hours=1)


def completed_local_day(plant: PlantConfig, now_utc: datetime) -> date:
    """The latest plant-local day that ended at least GRACE ago."""
    local_now = now_utc.astimezone(plant.tz)
    return (local_now - GRACE).date() - timedelta(days=1)
