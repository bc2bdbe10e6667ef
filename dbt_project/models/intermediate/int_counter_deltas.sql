{{ config(materialized='table') }}
-- Increase of every totalizer / counter tag between consecutive good readings.
--
-- Per (plant_id, source_tag), ordered by ts_utc, in the tag's source unit:
--   value >= previous                 -> delta = value - previous
--   value <  previous, rollover set   -> delta = value - previous + rollover   (wrapped at rollover)
--   value <  previous, no rollover    -> delta = value                          (reset to 0, then counted up)
-- then converted to the canonical unit: delta * scale (the unit offset cancels in a difference).
--
-- Each delta belongs to its interval START (the previous reading): the delta from 23:59 to 00:00
-- belongs to the earlier day. production_date is the plant-local date of the interval start,
-- hour_utc its UTC hour. Intervals whose two readings are more than one partition-day apart (the
-- day between is missing or failed its gate) are dropped: their increase cannot be placed in time.
--
-- Working set, not history: holds the intervals starting in [min_date - 1, max_date + 1].
with counters as (
    select *
    from {{ ref('int_signal_readings') }}
    where signal_kind in ('totalizer', 'counter')
),

plants as (
    select plant_id, timezone from {{ ref('stg_registry__plants') }}
),

with_previous as (
    select
        *,
        lag(ts_utc) over by_tag as previous_ts_utc,
        lag(source_value) over by_tag as previous_source_value,
        lag(production_date) over by_tag as previous_partition_date
    from counters
    window by_tag as (partition by plant_id, source_tag order by ts_utc)
),

deltas as (
    select
        plant_id,
        source_tag,
        signal,
        signal_kind,
        line_id,
        asset_id,
        previous_ts_utc as interval_start_utc,
        ts_utc as interval_end_utc,
        date_diff('millisecond', previous_ts_utc, ts_utc) / 60000.0 as interval_minutes,
        previous_source_value,
        source_value,
        rollover,
        scale,
        case
            when source_value >= previous_source_value then 'increase'
            when rollover is not null then 'rollover'
            else 'reset'
        end as delta_kind,
        case
            when source_value >= previous_source_value then source_value - previous_source_value
            when rollover is not null then source_value - previous_source_value + rollover
            else source_value
        end as source_delta
    from with_previous
    where previous_ts_utc is not null
        and previous_partition_date >= production_date - 1
),

placed as (
    select
        deltas.plant_id,
        deltas.source_tag,
        deltas.signal,
        deltas.signal_kind,
        deltas.line_id,
        deltas.asset_id,
        deltas.interval_start_utc,
        deltas.interval_end_utc,
        deltas.interval_minutes,
        date_trunc('hour', deltas.interval_start_utc) as hour_utc,
        {{ local_date('deltas.interval_start_utc', 'plants.timezone') }} as production_date,
        deltas.previous_source_value,
        deltas.source_value,
        deltas.rollover,
        deltas.delta_kind,
        deltas.source_delta,
        deltas.source_delta * deltas.scale as delta
    from deltas
    inner join plants
        on plants.plant_id = deltas.plant_id
)

select *
from placed
where {{ in_day_window('production_date', 1, 1) }}
