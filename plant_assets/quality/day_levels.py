"""Each tag's level over a plant-day (median of hourly means, meter rate; source units), kept beside the day's
gate results. The next day's level-shift check reads these few rows instead of rolling up the whole of
yesterday's readings again.

A kept file names the readings file it was measured from (size and modification time, taken before the
read); when yesterday was re-ingested since, the name no longer matches and yesterday is measured again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from plant_assets.core import lake as lake_paths
from plant_assets.core.lake import LakePath

IDENTITY_KEY = b"plant_assets.readings_identity"


@dataclass(frozen=True)
class DayLevelFiles:
    """Where today's tag levels are kept and yesterday's were."""

    today: LakePath
    yesterday: LakePath

    @classmethod
    def in_lake(cls, lake: LakePath, plant_id: str, day: date) -> DayLevelFiles:
        return cls(today=lake_paths.tag_levels_path(lake, plant_id, day),
                   yesterday=lake_paths.tag_levels_path(lake, plant_id, day - timedelta(days=1)))


def readings_identity(readings: LakePath) -> str | None:
    """Size and modification time of a readings file; None when the store cannot tell (no caching then: a
    store without modification times, such as fsspec's memory://, reports 0, and size alone is no identity)."""
    try:
        stat = readings.stat()
        modified = getattr(stat, "st_mtime_ns", None) or stat.st_mtime
    except (OSError, AttributeError, NotImplementedError, KeyError, TypeError, ValueError):
        return None
    return f"{stat.st_size}:{modified}" if modified else None


def keep(levels: pa.Table, path: LakePath, identity: str | None) -> None:
    if identity is None:
        return
    metadata = (levels.schema.metadata or {}) | {IDENTITY_KEY: identity.encode()}
    lake_paths.write_table_atomic(levels.replace_schema_metadata(metadata), path)


def kept(path: LakePath, readings: LakePath) -> pa.Table | None:
    """The levels kept for `readings`, if they were measured from the file as it is now."""
    if not path.exists():
        return None
    try:
        table = lake_paths.read_table(path)
    except (OSError, pa.ArrowException):  # unreadable: measure again rather than fail the gate
        return None
    identity = readings_identity(readings)
    stored = (table.schema.metadata or {}).get(IDENTITY_KEY)
    return table if identity is not None and stored == identity.encode() else None
