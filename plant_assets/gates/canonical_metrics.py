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
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from plant_assets.catalog import load_signal_catalog
from plant_assets.config import PlantConfig
from plant_assets.settings import work_connection
from plant_assets.units import conversion_to

# The readings the canonical metrics measure (the raw gate counts the others).
GOOD_READING = ("quality in ('good', 'uncertain') and value is not null and isfinite(value) "
                "and tag is not null and ts_utc is not null")
GOOD_READINGS = f"select tag, ts_utc, value from read_parquet($today) where {GOOD_READING}"

# One row per tag and hour of the day (hour -1: before the window), in source units: a parallel pass.
HOURLY_SQL = f"""
create or replace temp table gate_hourly as
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

# The per-tag metrics from gate_hourly (converted to canonical units here, a few rows a tag), the stuck runs,
# the range counts and yesterday's level (the same hourly rollup of yesterday's partition).
METRICS_SQL = """
with hourly as (
    select h.tag, h.tag_hash, h.hour, h.readings, h.first_ts, h.last_ts,
           h.mean_value * t.scale + t.unit_offset as mean_v,
           h.first_value * t.scale + t.unit_offset as first_v,
           h.last_value * t.scale + t.unit_offset as last_v
    from gate_hourly as h join gate_tag_map as t on t.source_tag = h.tag
),
per_tag as (
    select
        tag,
        any_value(tag_hash) as tag_hash,
        sum(readings)::BIGINT as readings,
        count(*) filter (where hour >= 0 and last_ts < $window_end::timestamp) as hours_with_data,
        greatest(datediff('second', $window_start::timestamp, min(first_ts)),
                 datediff('second', max(last_ts), $window_end::timestamp)) as edge_gap_seconds,
        -- the level a unit change would move: the median of hourly means, exact over at most 25 values
        -- and robust to spikes (a median over every reading needs a sort or a t-digest, 3x the cost)
        median(mean_v) as median_value,
        (arg_max(last_v, last_ts) - arg_min(first_v, first_ts))
            / nullif(datediff('second', min(first_ts), max(last_ts)), 0) as meter_rate
    from hourly
    group by tag
),
yesterday as (
    select tag,
           median(mean_value * t.scale + t.unit_offset) as median_value,
           (arg_max(last_value, last_ts) - arg_min(first_value, first_ts)) * any_value(t.scale)
               / nullif(datediff('second', min(first_ts), max(last_ts)), 0) as meter_rate
    from (
        select tag, date_trunc('hour', ts_utc) as hour, avg(value) as mean_value,
               min(ts_utc) as first_ts, max(ts_utc) as last_ts,
               arg_min(value, ts_utc) as first_value, arg_max(value, ts_utc) as last_value
        from read_parquet($yesterday)
        where quality in ('good', 'uncertain') and value is not null and isfinite(value) and $has_yesterday
        group by all
    ) as y
    join gate_tag_map as t on t.source_tag = y.tag
    group by tag
)
select
    t.source_tag as tag,
    t.signal,
    t.kind,
    coalesce(p.readings, 0) as readings,
    coalesce(o.out_of_range / p.readings, 0.0) as out_of_range_share,
    coalesce(p.hours_with_data, 0) / $day_hours as completeness,
    coalesce(greatest(coalesce(s.longest_step, 0), p.edge_gap_seconds) / 60.0, $day_hours * 60.0)
        as longest_gap_minutes,
    coalesce(f.longest_flat_minutes, 0.0) as longest_flat_minutes,
    level_ratio,
    -- how far the level moved against what the signal's physics explains: > 1 suggests a unit change
    case
        when level_ratio is null then null
        when level_ratio <= 0 then 1e9
        else greatest(level_ratio, 1 / level_ratio) / t.max_level_factor
    end as level_shift
from gate_tag_map as t
left join per_tag as p on p.tag = t.source_tag
left join gate_series as s on s.tag_hash = p.tag_hash
left join gate_flat as f on f.tag = t.source_tag
left join gate_out_of_range as o on o.tag = t.source_tag
left join yesterday as y on y.tag = t.source_tag
cross join lateral (
    select case
        when t.kind = 'continuous' and abs(y.median_value) > 1e-9 then p.median_value / y.median_value
        when t.kind = 'totalizer' and t.rollover is null and s.decreases > 0 then -1.0
        when t.kind = 'totalizer' and t.rollover is null and y.meter_rate > 1e-12 then p.meter_rate / y.meter_rate
    end as level_ratio
) as lr
order by t.source_tag
"""


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
                "rollover": tag.rollover,
            }
        )
    return pa.Table.from_pylist(rows)


@dataclass
class CanonicalMeasure:
    metrics: pd.DataFrame  # one row per mapped tag
    good_readings_unique: bool  # proved: no two good readings share (tag, ts_utc)


def measure_canonical(
    plant: PlantConfig, today: Path, yesterday: Path | None, window: tuple[datetime, datetime],
    con: duckdb.DuckDBPyConnection | None = None,
) -> CanonicalMeasure:
    """The metrics, on `con` (which must keep insertion order) or a connection of their own."""
    start, end = window
    has_yesterday = yesterday is not None and yesterday.exists()
    params = {
        "today": str(today),
        "yesterday": str(yesterday if has_yesterday else today),
        "has_yesterday": has_yesterday,
        "window_start": start,
        "window_end": end,
        "day_hours": (end - start).total_seconds() / 3600,
    }
    with nullcontext(con) if con is not None else work_connection(ordered=True) as con:
        con.register("gate_tag_map", gate_tag_map(plant))
        _run(con, HOURLY_SQL, params)
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
    return CanonicalMeasure(metrics=metrics, good_readings_unique=unique)


def canonical_day_metrics(
    plant: PlantConfig, today: Path, yesterday: Path | None, window: tuple[datetime, datetime]
) -> pd.DataFrame:
    """One row per mapped tag: the metrics the canonical_signals suite judges."""
    return measure_canonical(plant, today, yesterday, window).metrics


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> duckdb.DuckDBPyConnection:
    """Execute with the named parameters the statement uses (DuckDB rejects unused ones)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
