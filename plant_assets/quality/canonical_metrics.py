"""Per-tag day metrics of canonical signals, computed in DuckDB from the lake, judged by the
`canonical_signals` suite: physical range, completeness, longest gap, stuck sensor, level shift.

Two passes over the partition's good readings, in source units (the tag map's unit conversion and physical
range apply to the few result rows): a parallel one rolls them up to one row per tag and hour
(`gate_hourly`), and a streaming one measures what needs each reading's predecessor in its tag's series
(`gate_series`: gaps, repeats, meter decreases). The lake writes every partition in (tag, ts_utc) order,
so IN_FILE_ORDER takes the predecessor with a `lag` over the file, no sort; tags are compared by hash
(DuckDB hashes a dictionary-encoded column once per distinct value). The same pass proves the order: each
tag one run (runs = distinct tags, no two tags sharing a hash) in which ts_utc strictly increases, which
also proves the good readings hold no duplicate key (the raw gate uses that). A file that fails the proof
is measured again with SORTED, a window partitioned by tag.

The level-shift check compares each tag's level over the day (from `gate_hourly`) with yesterday's, which
yesterday's gate kept (day_levels), so yesterday's readings are read again only when those are missing or stale.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.settings import work_connection
from plant_assets.core.units import conversion_to
from plant_assets.ingest.parsing.sql import bind
from plant_assets.quality import day_levels
from plant_assets.quality.day_levels import DayLevelFiles

# The readings the canonical metrics measure (the raw gate counts the others).
GOOD_READING = ("quality in ('good', 'uncertain') and value is not null and isfinite(value) "
                "and tag is not null and ts_utc is not null")
GOOD_READINGS = f"select tag, ts_utc, value from read_parquet($today) where {GOOD_READING}"

# One row per tag and hour of the day (hour -1: before the window), in source units: a parallel pass.
HOURLY_SELECT = f"""
select
    tag,
    hash(tag) as tag_hash,
    case when ts_utc >= $window_start::timestamp
         then datediff('second', $window_start::timestamp, ts_utc) // 3600 else -1 end as hour,
    count(*) as readings,
    min(value) as min_value,
    max(value) as max_value,
    min(ts_utc) as first_ts,
    max(ts_utc) as last_ts,
    arg_min(value, ts_utc) as first_value,
    arg_max(value, ts_utc) as last_value,
    avg(value) as mean_value
from ({GOOD_READINGS})
group by all
"""
HOURLY_SQL = f"create or replace temp table gate_hourly as {HOURLY_SELECT}"

# Each tag's level over the day in source units (the tag map converts it later): the median of hourly means,
# exact over at most 25 values and robust to spikes (a median over every reading needs a sort or a t-digest,
# 3x the cost), and a meter's rate. Kept per plant-day, so the next day's level shift need not roll this day
# up again.
LEVELS_SQL = """
select tag,
       median(mean_value) as median_value,
       (arg_max(last_value, last_ts) - arg_min(first_value, first_ts))
           / nullif(datediff('second', min(first_ts), max(last_ts)), 0) as meter_rate
from {hourly}
group by tag
"""

# Each reading with its predecessor in its tag's series (same_tag, prev_ts, prev_value), two ways.
# {where} narrows the readings to some tags (a tag's series stays whole, so its predecessors stay right).
IN_FILE_ORDER = f"""
stream as (
    select tag, ts_utc, value, hash(tag) as tag_hash,
           coalesce(hash(tag) = lag(hash(tag)) over (), false) as same_tag,
           lag(ts_utc) over () as prev_ts, lag(value) over () as prev_value
    from ({GOOD_READINGS}) where {{where}}
)"""

SORTED = f"""
stream as (
    select tag, ts_utc, value, hash(tag) as tag_hash, lag(ts_utc) over w is not null as same_tag,
           lag(ts_utc) over w as prev_ts, lag(value) over w as prev_value
    from ({GOOD_READINGS}) where {{where}}
    window w as (partition by tag order by ts_utc)
)"""

# What needs the predecessor, one row per tag (by hash: cheaper in the single-threaded pass that follows a
# streaming window). `runs` counts where a tag's series (re)starts: one per tag when each tag is one run.
SERIES_SQL = """
create or replace temp table gate_series as
with {stream}
select
    tag_hash,
    max(epoch_us(ts_utc) - epoch_us(prev_ts)) filter (where same_tag) // 1000000 as longest_step,
    sum((same_tag and value < prev_value)::INTEGER) as decreases,
    sum((same_tag and value = prev_value)::INTEGER) as repeats,
    sum((not same_tag)::INTEGER) as runs,
    bool_and(not same_tag or ts_utc > prev_ts) as increasing
from stream
group by tag_hash
"""

# The order proof: each tag one run in which ts_utc strictly increases, and no two tags sharing a hash.
PROOF_SQL = """
select coalesce(sum(runs) = count(*) and bool_and(increasing), true)
       and count(*) = (select count(distinct tag) from gate_hourly)
from gate_series
"""

# Longest run of one repeated value per continuous tag (a stuck sensor), only over the tags that repeat.
# A run of repeats starts where the previous repeat of the tag is not the reading before.
FLAT_SQL = """
create or replace temp table gate_flat as
with {stream},
repeated as (select tag, ts_utc, prev_ts from stream where same_tag and value = prev_value),
runs as (
    select *, sum(new_run) over (partition by tag order by ts_utc rows unbounded preceding) as run_id
    from (select *, case when lag(ts_utc) over (partition by tag order by ts_utc) = prev_ts then 0 else 1 end as new_run
          from repeated)
)
select tag, max(minutes) as longest_flat_minutes
from (select tag, run_id, datediff('second', min(prev_ts), max(ts_utc)) / 60.0 as minutes from runs group by all)
group by tag
"""
FEW_TAGS = 16
REPEATING_TAGS = """
select distinct h.tag
from gate_hourly as h
join gate_series as s on s.tag_hash = h.tag_hash
join gate_tag_map as t on t.source_tag = h.tag
where t.kind = 'continuous' and s.repeats > 0
"""

# Readings outside their signal's physical range, counted only for tags with an hour whose extremes leave it.
OUT_OF_RANGE_TAGS = """
select distinct h.tag
from gate_hourly as h join gate_tag_map as t on t.source_tag = h.tag
where h.min_value * t.scale + t.unit_offset < t.min_value or h.max_value * t.scale + t.unit_offset > t.max_value
"""
OUT_OF_RANGE_SQL = f"""
create or replace temp table gate_out_of_range as
select r.tag, count(*) as out_of_range
from ({GOOD_READINGS}) as r
join gate_tag_map as t on t.source_tag = r.tag
where r.tag in (select unnest($tags::VARCHAR[]))
  and (r.value * t.scale + t.unit_offset < t.min_value or r.value * t.scale + t.unit_offset > t.max_value)
group by r.tag
"""

# The per-tag metrics from gate_hourly (a few rows a tag), the stuck runs, the range counts, and the day's
# level against yesterday's (both converted to canonical units by today's tag map).
METRICS_SQL = """
with per_tag as (
    select
        tag,
        any_value(tag_hash) as tag_hash,
        sum(readings)::BIGINT as readings,
        count(*) filter (where hour >= 0 and last_ts < $window_end::timestamp) as hours_with_data,
        greatest(datediff('second', $window_start::timestamp, min(first_ts)),
                 datediff('second', max(last_ts), $window_end::timestamp)) as edge_gap_seconds
    from gate_hourly
    group by tag
),
levels as (
    select t.source_tag as tag,
           l.median_value * t.scale + t.unit_offset as median_value, l.meter_rate * t.scale as meter_rate,
           y.median_value * t.scale + t.unit_offset as yesterday_median_value,
           y.meter_rate * t.scale as yesterday_meter_rate
    from gate_tag_map as t
    left join gate_levels as l on l.tag = t.source_tag
    left join gate_yesterday_levels as y on y.tag = t.source_tag
)
select
    t.source_tag as tag,
    t.signal,
    t.kind,
    coalesce(p.readings, 0) as readings,
    coalesce(o.out_of_range / p.readings, 0.0) as out_of_range_share,
    coalesce(p.hours_with_data, 0) / $day_hours as completeness,
    -- a tag that sent nothing has a gap of the whole day (greatest() skips NULLs, so it cannot say so)
    case when p.tag is null then $day_hours * 60.0
         else greatest(coalesce(s.longest_step, 0), p.edge_gap_seconds) / 60.0 end as longest_gap_minutes,
    coalesce(f.longest_flat_minutes, 0.0) as longest_flat_minutes,
    level_ratio,
    -- how far the level moved against what the signal's physics explains: > 1 suggests a unit change
    case
        when level_ratio is null then null
        when level_ratio <= 0 then 1e9
        else greatest(level_ratio, 1 / level_ratio) / greatest(t.max_level_factor, coalesce(lf.factor, 0))
    end as level_shift,
    greatest(t.max_level_factor, coalesce(lf.factor, 0)) as level_factor
from gate_tag_map as t
left join per_tag as p on p.tag = t.source_tag
left join gate_series as s on s.tag_hash = p.tag_hash
left join gate_flat as f on f.tag = t.source_tag
left join gate_out_of_range as o on o.tag = t.source_tag
left join levels as l on l.tag = t.source_tag
left join gate_level_factors as lf on lf.tag = t.source_tag
cross join lateral (
    select case
        when t.kind = 'continuous' and abs(l.yesterday_median_value) > greatest(1e-9, t.ratio_floor)
            and abs(l.median_value) > t.ratio_floor
            then l.median_value / l.yesterday_median_value
        when t.kind = 'totalizer' and t.rollover is null and s.decreases > 0 then -1.0
        when t.kind = 'totalizer' and t.rollover is null and l.yesterday_meter_rate > 1e-12
            then l.meter_rate / l.yesterday_meter_rate
    end as level_ratio
) as lr
order by t.source_tag
"""


def ratio_floor(canonical_unit: str) -> float:
    """Below this magnitude a level is not compared as a ratio with yesterday's. On a scale with an arbitrary zero a
    ratio means nothing near it (0.5 degC after 2 degC is no "factor 4"): outdoor temperatures around freezing are
    left to the range check, while a warm signal read in the wrong unit (a bearing's 122 degF as degC) is still caught."""
    return 10.0 if canonical_unit == "degC" else 0.0


def gate_tag_map(plant: PlantConfig) -> pa.Table:
    catalog = load_signal_catalog()
    rows = []
    for tag in plant.tag_map:
        signal = catalog[tag.signal]
        scale, offset = conversion_to(tag.source_unit, signal.canonical_unit)
        if scale <= 0:  # the rollup converts hourly extremes and compares source values: needs an increasing map
            raise ValueError(f"{tag.source_tag}: {tag.source_unit} -> {signal.canonical_unit} is not increasing")
        rows.append(
            {
                "source_tag": tag.source_tag, "signal": tag.signal, "kind": signal.kind, "scale": scale,
                "unit_offset": offset, "min_value": signal.min_value, "max_value": signal.max_value,
                "max_level_factor": signal.max_level_factor,
                "rollover": tag.rollover, "ratio_floor": ratio_floor(signal.canonical_unit),
            }
        )
    return pa.Table.from_pylist(rows)


@dataclass
class CanonicalMeasure:
    metrics: pd.DataFrame  # one row per mapped tag
    good_readings_unique: bool  # proved: no two good readings share (tag, ts_utc)


def measure_canonical(
    plant: PlantConfig, today: Path, yesterday: Path | None, window: tuple[datetime, datetime],
    con: duckdb.DuckDBPyConnection | None = None, levels: DayLevelFiles | None = None,
) -> CanonicalMeasure:
    """The metrics, on `con` (which must keep insertion order) or a connection of their own. With `levels`,
    today's tag levels are kept and yesterday's are read from where its gate kept them."""
    start, end = window
    params = {"today": str(today), "window_start": start, "window_end": end,
              "day_hours": (end - start).total_seconds() / 3600}
    identity = day_levels.readings_identity(today) if levels else None  # before the read: see day_levels
    with nullcontext(con) if con is not None else work_connection(ordered=True) as con:
        con.register("gate_tag_map", gate_tag_map(plant))
        con.register("gate_level_factors", _level_factors(plant, levels))
        _run(con, HOURLY_SQL, params)
        _run(con, f"create or replace temp table gate_levels as {LEVELS_SQL.format(hourly='gate_hourly')}", params)
        if levels:
            day_levels.keep(con.table("gate_levels").fetch_arrow_table(), levels.today, identity)
        _yesterday_levels(con, plant, yesterday, start, levels)
        stream = IN_FILE_ORDER
        _run(con, SERIES_SQL.format(stream=stream.format(where="true")), params)
        if not con.execute(PROOF_SQL).fetchone()[0]:
            stream = SORTED
            _run(con, SERIES_SQL.format(stream=stream.format(where="true")), params)
            if con.execute("select count(distinct tag) <> count(distinct tag_hash) from gate_hourly").fetchone()[0]:
                raise RuntimeError(f"{today}: two tags share a 64-bit hash; the canonical gate cannot tell them apart")
        unique = bool(con.execute("select coalesce(bool_and(increasing), true) from gate_series").fetchone()[0])
        repeating = [row[0] for row in con.execute(REPEATING_TAGS).fetchall()]
        # a few repeating tags: read only theirs (a short list scan a reading beats a second full pass)
        only = "list_contains($repeating::VARCHAR[], tag)" if len(repeating) <= FEW_TAGS else "true"
        _run(con, FLAT_SQL.format(stream=stream.format(where=only))
             if repeating else "create or replace temp table gate_flat as "
             "select ''::VARCHAR as tag, 0.0::DOUBLE as longest_flat_minutes where false", params | {"repeating": repeating})
        out_of_range = [row[0] for row in con.execute(OUT_OF_RANGE_TAGS).fetchall()]
        _run(con, OUT_OF_RANGE_SQL if out_of_range else "create or replace temp table gate_out_of_range as "
             "select ''::VARCHAR as tag, 0::BIGINT as out_of_range where false", params | {"tags": out_of_range})
        metrics = _run(con, METRICS_SQL, params).df()
        con.unregister("gate_tag_map")
        con.unregister("gate_level_factors")
    return CanonicalMeasure(metrics=metrics, good_readings_unique=unique)


def _level_factors(plant: PlantConfig, levels: DayLevelFiles | None) -> pa.Table:
    """tag, factor: each tag's level factor learned from the plant's kept day levels (day_levels.LEARN_*)."""
    catalog = load_signal_catalog()
    kinds = {t.source_tag: catalog[t.signal].kind for t in plant.tag_map}
    floors = {}
    for tag in plant.tag_map:
        floor = ratio_floor(catalog[tag.signal].canonical_unit)
        if floor:
            floors[tag.source_tag] = (*conversion_to(tag.source_unit, catalog[tag.signal].canonical_unit), floor)
    learned = day_levels.learned_level_factors(levels, kinds, floors) if levels else {}
    return pa.Table.from_pylist([{"tag": tag, "factor": f} for tag, f in learned.items()],
                                schema=pa.schema([("tag", pa.string()), ("factor", pa.float64())]))


def _yesterday_levels(
    con: duckdb.DuckDBPyConnection, plant: PlantConfig, yesterday: Path | None, today_start: datetime,
    levels: DayLevelFiles | None,
) -> None:
    """gate_yesterday_levels: as yesterday's gate kept them, else rolled up from yesterday's readings (and
    kept for the next time), else empty (no yesterday: no level shift to measure)."""
    table = "gate_yesterday_levels"
    if yesterday is None or not yesterday.exists():
        con.execute(f"create or replace temp table {table} as "
                    "select ''::VARCHAR as tag, 0.0::DOUBLE as median_value, 0.0::DOUBLE as meter_rate where false")
        return
    kept = day_levels.kept(levels.yesterday, yesterday) if levels else None
    if kept is not None:
        con.register("gate_kept_levels", kept)
        con.execute(f"create or replace temp table {table} as select tag, median_value, meter_rate from gate_kept_levels")
        con.unregister("gate_kept_levels")
        return
    local_today = today_start.replace(tzinfo=timezone.utc).astimezone(plant.tz).date()
    identity = day_levels.readings_identity(yesterday) if levels else None
    _run(con, f"create or replace temp table {table} as {LEVELS_SQL.format(hourly=f'({HOURLY_SELECT})')}",
         {"today": str(yesterday), "window_start": plant.day_window_utc(local_today - timedelta(days=1))[0]})
    if levels:
        day_levels.keep(con.table(table).fetch_arrow_table(), levels.yesterday, identity)


def canonical_day_metrics(
    plant: PlantConfig, today: Path, yesterday: Path | None, window: tuple[datetime, datetime]
) -> pd.DataFrame:
    """One row per mapped tag: the metrics the canonical_signals suite judges."""
    return measure_canonical(plant, today, yesterday, window).metrics


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> duckdb.DuckDBPyConnection:
    """Execute with the named parameters the statement uses (DuckDB rejects unused ones)."""
    return con.execute(sql, bind(sql, params))
