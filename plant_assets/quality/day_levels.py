"""Each tag's level over a plant-day (median of hourly means, meter rate; source units), kept beside the day's
gate results. The next day's level-shift check reads these few rows instead of rolling up the whole of
yesterday's readings again, and the kept days before it teach the check each tag's normal day-to-day
variation (learned_level_factors).

A kept file names the readings file it was measured from (size and modification time, taken before the
read); when yesterday was re-ingested since, the name no longer matches and yesterday is measured again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from plant_assets.core import lake as lake_paths
from plant_assets.core.lake import LakePath

IDENTITY_KEY = b"plant_assets.readings_identity"
# The level-shift rule learned from the plant's own history: over the day-over-day ratios of a tag's level
# (median for continuous signals, meter rate for totalizers) of the last LEARN_DAYS kept days, the factor is
# LEARN_MARGIN x exp(the LEARN_QUANTILE quantile of |log ratio|), never below the catalog's max_level_factor;
# with fewer than LEARN_MIN_RATIOS ratios, the catalog factor alone. A high quantile, not median + k MAD: a
# weekday/weekend swing is a second mode that a MAD band (set by the many quiet days) would reject.
LEARN_DAYS = 28
LEARN_MIN_RATIOS = 7
LEARN_QUANTILE = 0.9
LEARN_MARGIN = 2.0


@dataclass(frozen=True)
class DayLevelFiles:
    """Where today's tag levels are kept and yesterday's were, and the days before (newest first)."""

    today: LakePath
    yesterday: LakePath
    earlier: tuple[LakePath, ...] = ()

    @classmethod
    def in_lake(cls, lake: LakePath, plant_id: str, day: date) -> DayLevelFiles:
        return cls(today=lake_paths.tag_levels_path(lake, plant_id, day),
                   yesterday=lake_paths.tag_levels_path(lake, plant_id, day - timedelta(days=1)),
                   earlier=tuple(lake_paths.tag_levels_path(lake, plant_id, day - timedelta(days=k))
                                 for k in range(2, LEARN_DAYS + 1)))


def learned_level_factors(
    files: DayLevelFiles, kinds: dict[str, str], floors: dict[str, tuple[float, float, float]] | None = None,
) -> dict[str, float]:
    """tag -> the level factor its own history allows beyond the catalog's (see LEARN_*), for tags with enough
    history. `kinds` maps each tag to its signal kind: totalizers compare meter rates, others medians.
    `floors`: tag -> (scale, offset, floor): a day pair whose canonical level (value x scale + offset) is below the
    floor in magnitude is no ratio (canonical_metrics.ratio_floor: a temperature near 0 degC)."""
    floors = floors or {}
    days = [files.yesterday, *files.earlier]  # newest first; a missing day breaks the chain of ratios
    levels: list[dict[str, float] | None] = []
    for path in days:
        table = _readable(path)
        levels.append(None if table is None else {
            row["tag"]: row["meter_rate" if kinds.get(row["tag"]) == "totalizer" else "median_value"]
            for row in table.to_pylist()
        })
    ratios: dict[str, list[float]] = {}
    for newer, older in zip(levels, levels[1:]):
        for tag, value in (newer or {}).items():
            before = (older or {}).get(tag)
            if tag in floors and value is not None and before is not None:
                scale, offset, floor = floors[tag]
                if min(abs(value * scale + offset), abs(before * scale + offset)) < floor:
                    continue
            if value is not None and before is not None and value > 0 and before > 0:
                ratios.setdefault(tag, []).append(abs(math.log(value / before)))
    learned = {}
    for tag, logs in ratios.items():
        if len(logs) >= LEARN_MIN_RATIOS:
            logs.sort()
            learned[tag] = LEARN_MARGIN * math.exp(logs[min(len(logs) - 1, math.ceil(LEARN_QUANTILE * len(logs)) - 1)])
    return learned


def _readable(path: LakePath) -> pa.Table | None:
    try:
        return lake_paths.read_table(path) if path.exists() else None
    except (OSError, pa.ArrowException):
        return None


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
