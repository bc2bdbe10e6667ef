"""Read a sample export with any dialect before a tag map exists: its tag names and value statistics.

Two passes with the dialect's own parser: the first, with an empty tag map, finds the tag names in the
unknown_tag quarantine; the second maps every found tag to itself and yields the readings. So the sample is
read exactly as ingest will read it (time zone, quality, delimiter ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb

_TAG_IN_DETAIL = re.compile(r"^tag(?: path)? '(?P<tag>.*)' (?:\((?:column|tagid) [^)]*\) )?is not in the tag map of ")
DATE_IN_NAME = re.compile(r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])")


@dataclass
class TagStats:
    n: int = 0
    n_good: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    integer_share: float = 0.0  # share of good values that are whole numbers
    increasing_share: float = 0.0  # share of consecutive good pairs that do not decrease
    drops: int = 0  # decreases between consecutive good values (rollovers, resets)
    median_interval_s: float | None = None
    median_increase: float | None = None  # median of the positive steps between consecutive good values
    increase_per_s: float | None = None  # the rises over the time they took: a meter's mean rate, drops left out
    drop_pairs: list[tuple[float, float]] = field(default_factory=list)  # (before, after) of the first drops


@dataclass
class SampleRead:
    tags: list[str]
    stats: dict[str, TagStats]
    day: date
    raw_records: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    failed_rows: list[dict[str, Any]] = field(default_factory=list)


def day_from_name(path: Path) -> date | None:
    m = DATE_IN_NAME.search(path.name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _fake_plant(plant_id: str, dialect: str, options: dict[str, Any], timezone: str, tags: list[str]) -> Any:
    tag_map = tuple(SimpleNamespace(source_tag=t, source_unit="") for t in tags)
    historian = SimpleNamespace(dialect=dialect, options=options, file_pattern="")
    return SimpleNamespace(plant_id=plant_id, timezone=timezone, historian=historian, tag_map=tag_map)


def read_sample(dialect: str, options: dict[str, Any], timezone: str, path: Path, day: date | None = None,
                plant_id: str = "new_plant", extra_files: list[Path] | None = None) -> SampleRead:
    """Tags and per-tag statistics of one sample export (`day`: its plant-local day; from the name if None)."""
    from plant_assets.ingest.exports import parse_historian

    path = Path(path)
    day = day or day_from_name(path)
    if day is None:  # never today's date silently: the sample's rows would all be outside it
        raise ValueError(f"the sample's file name {path.name!r} holds no date (e.g. 20260907 or 2026-09-07); "
                         "pass the plant-local day its rows belong to with --day")
    options = {k: v for k, v in (options or {}).items() if k != "unit"}
    files = [path, *(extra_files or [])]
    con = duckdb.connect()
    try:
        first = parse_historian(_fake_plant(plant_id, dialect, options, timezone, []), [path], day, con)
        found: list[str] = []
        for row in first.quarantine.to_pylist():
            if row["reason_code"] == "unknown_tag":
                m = _TAG_IN_DETAIL.match(row["reason_detail"] or "")
                if m and m.group("tag"):
                    found.append(m.group("tag"))
        tags = sorted(set(found))
        if not tags:
            raise ValueError(f"the sample {path.name} yielded no tags with dialect {dialect!r}: "
                             f"{_what_failed(first)}")
        second = parse_historian(_fake_plant(plant_id, dialect, options, timezone, tags), [path], day, con)
        acc = second.accepted
        if acc.num_rows == 0:
            raise ValueError(f"no reading of the sample {path.name} was accepted for day {day}: {_what_failed(second)}"
                             " (is --day the plant-local day of its rows?)")
        con.register("acc", acc)
        rows = con.execute(
            """WITH g AS (
                   SELECT tag, ts_utc, value, value - lag(value) OVER w AS dv,
                          lag(value) OVER w AS before,
                          epoch(ts_utc - lag(ts_utc) OVER w) AS dt
                   FROM acc WHERE quality <> 'bad' AND value IS NOT NULL
                   WINDOW w AS (PARTITION BY tag ORDER BY ts_utc))
               SELECT tag, count(*), min(value), max(value), avg(value),
                      avg(CASE WHEN value = round(value) THEN 1 ELSE 0 END),
                      coalesce(avg(CASE WHEN dv >= 0 THEN 1 WHEN dv < 0 THEN 0 END), 0),
                      count(*) FILTER (WHERE dv < 0), median(dt),
                      median(dv) FILTER (WHERE dv > 0),
                      sum(dv) FILTER (WHERE dv > 0) / nullif(sum(dt) FILTER (WHERE dv >= 0), 0),
                      list([before, value] ORDER BY ts_utc) FILTER (WHERE dv < 0)
               FROM g GROUP BY tag"""
        ).fetchall()
        totals = dict(con.execute("SELECT tag, count(*) FROM acc GROUP BY tag").fetchall())
        con.unregister("acc")
        stats = {t: TagStats(n=int(totals.get(t, 0))) for t in tags}
        for tag, n, lo, hi, mean, ints, inc, drops, med, step, rate, pairs in rows:
            stats[tag] = TagStats(int(totals.get(tag, n)), int(n), lo, hi, mean, float(ints), float(inc), int(drops),
                                  float(med) if med is not None else None, step, rate,
                                  [(float(b), float(a)) for b, a in (pairs or [])[:20]])
        rec = second.reconciliation.to_pylist()
        failed = [r for r in second.quarantine.to_pylist()][:20]
        return SampleRead(tags=tags, stats=stats, day=day, raw_records=sum(r["raw_records"] for r in rec),
                          reasons=second.reason_counts(), failed_rows=failed)
    finally:
        con.close()


def _what_failed(parsed: Any) -> str:
    """The reasons and the first failed row of a parse, in one sentence."""
    raw = sum(r["raw_records"] for r in parsed.reconciliation.to_pylist())
    first = next((r for r in parsed.quarantine.to_pylist() if r["reason_code"] != "unknown_tag"), None)
    where = f"; first: {first['source_file']}:{first['source_line']}: {first['reason_detail']}" if first else ""
    return f"{raw} records, reasons {parsed.reason_counts()}{where}"
