"""The simulation's minute grid in one plant's local calendar (zoneinfo, correct across DST).

Minute i covers the UTC interval [utc_ms[i], utc_ms[i] + 60 s). The grid starts at local midnight of
the first day and ends at local midnight after the last day, so a local day has 1440 minutes, or
1380 / 1500 on DST change days. The instant utc_ms[i] is also where register readings are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MINUTE_MS = 60_000


def local_to_utc_ms(day: date, tz: ZoneInfo, minutes: float = 0.0) -> int:
    """Epoch ms (UTC) of a local wall-clock time `minutes` after local midnight of `day`.

    A wall-clock time in a DST gap maps forward (zoneinfo fold=0), an ambiguous one to its first occurrence.
    """
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minutes)
    aware = wall.replace(tzinfo=tz, fold=0)
    return int(round(aware.astimezone(timezone.utc).timestamp() * 1000))


@dataclass(frozen=True)
class Clock:
    start: date
    days: int
    tz: ZoneInfo
    utc_ms: np.ndarray  # int64 epoch ms of every minute start
    local: np.ndarray  # datetime64[ms], naive local wall clock of every minute start
    day: np.ndarray  # int32 local day index (0-based from start)
    minute_of_day: np.ndarray  # int32 wall-clock minutes since local midnight

    @property
    def n(self) -> int:
        return len(self.utc_ms)

    def date_of(self, day_index: int) -> date:
        return self.start + timedelta(days=int(day_index))

    def day_slice(self, day_index: int) -> slice:
        lo = int(np.searchsorted(self.day, day_index, side="left"))
        hi = int(np.searchsorted(self.day, day_index, side="right"))
        return slice(lo, hi)

    def index_of_utc_ms(self, ms: int) -> int:
        """Minute index containing the instant (may be < 0 or >= n when outside the window)."""
        return int((ms - int(self.utc_ms[0])) // MINUTE_MS)

    def end_utc_ms(self) -> int:
        return int(self.utc_ms[-1]) + MINUTE_MS


def make_clock(start: date, days: int, tz: ZoneInfo) -> Clock:
    if days < 1:
        raise ValueError("days must be >= 1")
    t0 = local_to_utc_ms(start, tz)
    t1 = local_to_utc_ms(start + timedelta(days=days), tz)
    utc_ms = np.arange(t0, t1, MINUTE_MS, dtype=np.int64)
    local_index = pd.to_datetime(utc_ms, unit="ms", utc=True).tz_convert(tz).tz_localize(None)
    local = local_index.to_numpy().astype("datetime64[ms]")
    local_days = local.astype("datetime64[D]")
    day = (local_days - np.datetime64(start, "D")).astype(np.int32)
    minute_of_day = ((local - local_days).astype("timedelta64[m]").astype(np.int64)).astype(np.int32)
    return Clock(start=start, days=days, tz=tz, utc_ms=utc_ms, local=local, day=day, minute_of_day=minute_of_day)
