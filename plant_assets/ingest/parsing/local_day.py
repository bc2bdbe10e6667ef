"""Time zones: one plant-local production day and how its local times map to UTC (DST gaps and folds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo


def as_day(day: date | datetime | str) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    if isinstance(day, str):
        return date.fromisoformat(day)
    raise TypeError(f"day must be a date or an ISO date string, not {type(day).__name__}")


@dataclass(frozen=True)
class Segment:
    start: datetime  # local, inclusive
    end: datetime  # local, exclusive
    kind: str  # normal | gap | fold
    offset: int  # seconds east of UTC (for a fold: of the first pass)
    offset2: int  # fold: offset of the second pass; else = offset


def _offset(tz: ZoneInfo, utc: datetime) -> int:
    return int(utc.replace(tzinfo=timezone.utc).astimezone(tz).utcoffset().total_seconds())


class LocalDay:
    """The partition: plant-local [day 00:00, day+1 00:00) and how its local times map to UTC. With `days` > 1,
    the local times of that many days from `day` (an event that starts in the day may end days later, across
    a change of time the partition day does not have)."""

    def __init__(self, tz_name: str, day: date, days: int = 1):
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self.day = day
        self.start_local = datetime.combine(day, time())
        self.end_local = self.start_local + timedelta(days=days)
        self.start_utc = self.to_utc(self.start_local)
        self.end_utc = self.to_utc(self.end_local)
        self.segments = self._segments()

    def to_utc(self, local: datetime, fold: int = 0) -> datetime:
        """Naive UTC of a naive local time (a gap time maps to the transition instant with fold=0)."""
        return local.replace(tzinfo=self.tz, fold=fold).astimezone(timezone.utc).replace(tzinfo=None)

    def _transitions(self) -> list[tuple[datetime, int, int]]:
        lo = self.start_local - timedelta(hours=30)
        hi = self.end_local + timedelta(hours=30)
        step = timedelta(minutes=15)
        found = []
        t, prev = lo, _offset(self.tz, lo)
        while t < hi:
            nxt = t + step
            off = _offset(self.tz, nxt)
            if off != prev:
                a, b = t, nxt  # offset(a) == prev, offset(b) == off
                while b - a > timedelta(seconds=1):
                    mid = a + (b - a) / 2
                    mid = mid.replace(microsecond=0)
                    if mid <= a:
                        break
                    if _offset(self.tz, mid) == prev:
                        a = mid
                    else:
                        b = mid
                found.append((b, prev, off))
            t, prev = nxt, off
        return found

    def _classify(self, local: datetime) -> tuple[str, int, int]:
        o0 = int(local.replace(tzinfo=self.tz, fold=0).utcoffset().total_seconds())
        o1 = int(local.replace(tzinfo=self.tz, fold=1).utcoffset().total_seconds())
        if o0 == o1:
            return "normal", o0, o0
        back = (local - timedelta(seconds=o0)).replace(tzinfo=timezone.utc).astimezone(self.tz).replace(tzinfo=None)
        if back != local:
            return "gap", o0, o1
        return "fold", o0, o1

    def _segments(self) -> list[Segment]:
        points = {self.start_local, self.end_local}
        for t_utc, before, after in self._transitions():
            for p in (t_utc + timedelta(seconds=before), t_utc + timedelta(seconds=after)):
                if self.start_local < p < self.end_local:
                    points.add(p)
        bounds = sorted(points)
        segs: list[Segment] = []
        for a, b in zip(bounds, bounds[1:]):
            kind, o1, o2 = self._classify(a)
            if segs and segs[-1].kind == kind == "normal" and segs[-1].offset == o1:
                segs[-1] = Segment(segs[-1].start, b, kind, o1, o2)
            else:
                segs.append(Segment(a, b, kind, o1, o2))
        return segs

    @property
    def has_fold(self) -> bool:
        return any(s.kind == "fold" for s in self.segments)

    def params(self, p: str = "tz") -> dict[str, Any]:
        out: dict[str, Any] = {
            f"{p}_l0": self.start_local,
            f"{p}_l1": self.end_local,
            f"{p}_u0": self.start_utc,
            f"{p}_u1": self.end_utc,
            f"{p}_name": self.tz_name,
        }
        for i, s in enumerate(self.segments):
            out[f"{p}_s{i}"] = s.start
            out[f"{p}_e{i}"] = s.end
            out[f"{p}_o{i}"] = s.offset
            out[f"{p}_p{i}"] = s.offset2
        return out

    def utc_sql(self, x: str, p: str = "tz") -> str:
        """SQL: naive UTC of local timestamp x (first pass for folds, NULL in a gap).

        Local times outside the day use the offset of the nearest segment: they are quarantined anyway.
        """
        segs = self.segments
        if len(segs) == 1:
            return f"({x} - to_seconds(${p}_o0))"
        arms = []
        for i, s in enumerate(segs[:-1]):
            value = "NULL::TIMESTAMP" if s.kind == "gap" else f"{x} - to_seconds(${p}_o{i})"
            arms.append(f"WHEN {x} < ${p}_e{i} THEN {value}")
        last = len(segs) - 1
        value = "NULL::TIMESTAMP" if segs[-1].kind == "gap" else f"{x} - to_seconds(${p}_o{last})"
        return f"(CASE {' '.join(arms)} ELSE {value} END)"

    def gap_sql(self, x: str, p: str = "tz") -> str:
        """SQL: true when local timestamp x does not exist (DST gap)."""
        arms = [f"({x} >= ${p}_s{i} AND {x} < ${p}_e{i})" for i, s in enumerate(self.segments) if s.kind == "gap"]
        return f"({' OR '.join(arms)})" if arms else "false"

    def fold_offset2_sql(self, x: str, p: str = "tz") -> str:
        """SQL: the second-pass offset (seconds) when local timestamp x is ambiguous (DST fold), else NULL."""
        arms = [
            f"WHEN {x} >= ${p}_s{i} AND {x} < ${p}_e{i} THEN ${p}_p{i}"
            for i, s in enumerate(self.segments)
            if s.kind == "fold"
        ]
        return f"(CASE {' '.join(arms)} END)::INTEGER" if arms else "NULL::INTEGER"

    def outside_local_sql(self, x: str, p: str = "tz") -> str:
        return f"({x} < ${p}_l0 OR {x} >= ${p}_l1)"

    def outside_utc_sql(self, x: str, p: str = "tz") -> str:
        return f"({x} < ${p}_u0 OR {x} >= ${p}_u1)"
