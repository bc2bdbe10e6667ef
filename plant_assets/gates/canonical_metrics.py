"""Per-tag day metrics of canonical signals, computed in DuckDB from the lake, judged by the
`canonical_signals` suite: physical range, completeness, longest gap, stuck sensor, level shift."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from plant_assets.catalog import load_signal_catalog
from plant_assets.config import PlantConfig
from plant_assets.settings import work_connection
from plant_assets.units import conversion_to

# Each reading with its predecessor in its tag's series (prev_ts, prev_v), computed two ways, and the
# readings that repeat their predecessor's value (`repeated`, few), whose runs are a stuck sensor.
#
# The lake writes every partition in (tag, ts_utc) order, so IN_FILE_ORDER takes the predecessor with a
# streaming lag over the file (no sort), once for the per-tag metrics and once for the repeats. `in_order`
# proves that order in both passes (strictly increasing (tag, ts_utc), so each tag is one run in time order);
# a file that fails the proof is measured again with SORTED, the same columns from a window partitioned by tag.
IN_FILE_ORDER = """
stream as not materialized (
    select tag, ts_utc, value,
           lag(tag) over () as prev_tag, lag(ts_utc) over () as prev_ts_any, lag(value) over () as prev_value_any,
           coalesce(prev_tag is null or tag > prev_tag or (tag = prev_tag and ts_utc > prev_ts_any), false) as in_order
    from read_parquet($today)
    where quality in ('good', 'uncertain') and value is not null and isfinite(value)
      and tag is not null and ts_utc is not null  -- (the raw gate counts those)
),
ordered as not materialized (
    select t.source_tag, t.kind, s.ts_utc, s.value * t.scale + t.unit_offset as v, t.min_value, t.max_value,
           case when s.prev_tag = s.tag then s.prev_ts_any end as prev_ts,
           case when s.prev_tag = s.tag then s.prev_value_any * t.scale + t.unit_offset end as prev_v,
           s.in_order
    from stream as s
    join tags as t on t.source_tag = s.tag
),
repeated as (
    -- filtered before the join; a reading out of order is kept too, so this pass proves the order as well
    select t.source_tag, s.ts_utc, s.prev_ts_any as prev_ts, s.in_order,
           s.tag = s.prev_tag and s.value = s.prev_value_any and t.kind = 'continuous' as repeats
    from stream as s
    join tags as t on t.source_tag = s.tag
    where (s.tag = s.prev_tag and s.value = s.prev_value_any) or not s.in_order
),
"""

SORTED = """
readings as (
    select t.source_tag, t.kind, r.ts_utc, r.value * t.scale + t.unit_offset as v,
           t.min_value, t.max_value
    from read_parquet($today) as r
    join tags as t on t.source_tag = r.tag
    where r.quality in ('good', 'uncertain') and r.value is not null and isfinite(r.value) and r.ts_utc is not null
),
ordered as (
    select *, lag(ts_utc) over w as prev_ts, lag(v) over w as prev_v, true as in_order
    from readings
    window w as (partition by source_tag order by ts_utc)
),
repeated as (
    select source_tag, ts_utc, prev_ts, true as in_order, true as repeats
    from ordered where kind = 'continuous' and v = prev_v
),
"""

METRICS_SQL = """
with tags as (select * from gate_tag_map),
{ordered}repeats as (
    -- runs of repeats: a new run starts where the previous repeat of the tag is not the reading before
    select source_tag, ts_utc, prev_ts,
           case when lag(ts_utc) over (partition by source_tag order by ts_utc) = prev_ts then 0 else 1 end
               as new_run
    from repeated
    where repeats
),
flat as (
    select source_tag, max(minutes) as longest_flat_minutes
    from (
        select source_tag, run_id, datediff('second', min(prev_ts), max(ts_utc)) / 60.0 as minutes
        from (
            select *, sum(new_run) over (partition by source_tag order by ts_utc rows unbounded preceding) as run_id
            from repeats
        )
        group by source_tag, run_id
    )
    group by source_tag
),
hourly as (
    -- one row per tag and hour of the day: every per-tag metric rolls up from these (at most 25 a tag)
    select
        source_tag,
        case when ts_utc >= $window_start::timestamp
             then datediff('second', $window_start::timestamp, ts_utc) // 3600 else -1 end as hour,
        count(*) as readings,
        count(*) filter (where v < min_value or v > max_value) as out_of_range,
        max(datediff('second', prev_ts, ts_utc)) as longest_step,
        min(ts_utc) as first_ts,
        max(ts_utc) as last_ts,
        arg_min(v, ts_utc) as first_v,
        arg_max(v, ts_utc) as last_v,
        avg(v) as mean_v,
        count(*) filter (where v < prev_v) as decreases,
        bool_and(in_order) as in_order
    from ordered
    group by all
),
per_tag as (
    select
        source_tag,
        sum(readings)::BIGINT as readings,
        sum(out_of_range) / sum(readings) as out_of_range_share,
        count(*) filter (where hour >= 0 and last_ts < $window_end::timestamp) as hours_with_data,
        greatest(
            coalesce(max(longest_step), 0),
            datediff('second', $window_start::timestamp, min(first_ts)),
            datediff('second', max(last_ts), $window_end::timestamp)
        ) / 60.0 as longest_gap_minutes,
        -- the level a unit change would move: the median of hourly means, exact over at most 25 values
        -- and robust to spikes (a median over every reading needs a sort or a t-digest, 3x the cost)
        median(mean_v) as median_value,
        (arg_max(last_v, last_ts) - arg_min(first_v, first_ts))
            / nullif(datediff('second', min(first_ts), max(last_ts)), 0) as meter_rate,
        sum(decreases)::BIGINT as meter_decreases,
        bool_and(in_order) as in_order
    from hourly
    group by source_tag
),
yesterday as (
    select source_tag,
           median(mean_v) as median_value,
           (arg_max(last_v, last_ts) - arg_min(first_v, first_ts))
               / nullif(datediff('second', min(first_ts), max(last_ts)), 0) as meter_rate
    from (
        select t.source_tag, date_trunc('hour', r.ts_utc) as hour,
               avg(r.value * t.scale + t.unit_offset) as mean_v,
               min(r.ts_utc) as first_ts, max(r.ts_utc) as last_ts,
               arg_min(r.value * t.scale + t.unit_offset, r.ts_utc) as first_v,
               arg_max(r.value * t.scale + t.unit_offset, r.ts_utc) as last_v
        from read_parquet($yesterday) as r
        join tags as t on t.source_tag = r.tag
        where r.quality in ('good', 'uncertain') and r.value is not null and isfinite(r.value) and $has_yesterday
        group by all
    )
    group by source_tag
)
select
    t.source_tag as tag,
    t.signal,
    t.kind,
    coalesce(p.readings, 0) as readings,
    coalesce(p.out_of_range_share, 0.0) as out_of_range_share,
    coalesce(p.hours_with_data, 0) / $day_hours as completeness,
    coalesce(p.longest_gap_minutes, $day_hours * 60.0) as longest_gap_minutes,
    coalesce(f.longest_flat_minutes, 0.0) as longest_flat_minutes,
    level_ratio,
    p.in_order and (select coalesce(bool_and(in_order), true) from repeated) as in_order,
    -- how far the level moved against what the signal's physics explains: > 1 suggests a unit change
    case
        when level_ratio is null then null
        when level_ratio <= 0 then 1e9
        else greatest(level_ratio, 1 / level_ratio) / t.max_level_factor
    end as level_shift
from tags as t
left join per_tag as p on p.source_tag = t.source_tag
left join flat as f on f.source_tag = t.source_tag
left join yesterday as y on y.source_tag = t.source_tag
cross join lateral (
    select case
        when t.kind = 'continuous' and abs(y.median_value) > 1e-9 then p.median_value / y.median_value
        when t.kind = 'totalizer' and t.rollover is null and p.meter_decreases > 0 then -1.0
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
        rows.append(
            {
                "source_tag": tag.source_tag, "signal": tag.signal, "kind": signal.kind, "scale": scale,
                "unit_offset": offset, "min_value": signal.min_value, "max_value": signal.max_value,
                "max_level_factor": signal.max_level_factor,
                "rollover": tag.rollover,
            }
        )
    return pa.Table.from_pylist(rows)


def canonical_day_metrics(
    plant: PlantConfig, today: Path, yesterday: Path | None, window: tuple[datetime, datetime]
) -> pd.DataFrame:
    """One row per mapped tag: the metrics the canonical_signals suite judges."""
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
    with work_connection(ordered=True) as con:
        con.register("gate_tag_map", gate_tag_map(plant))
        metrics = con.execute(METRICS_SQL.format(ordered=IN_FILE_ORDER), params).df()
        if not metrics["in_order"].fillna(True).all():
            metrics = con.execute(METRICS_SQL.format(ordered=SORTED), params).df()
    return metrics.drop(columns="in_order")
