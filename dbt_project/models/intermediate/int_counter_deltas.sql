{{ config(materialized='table') }}
-- Increase of every totalizer / counter tag between consecutive good readings.
--
-- A meter only counts up. Per (plant_id, source_tag), ordered by ts_utc, in the tag's source unit, each
-- reading is judged against the one before it and the physical rate: `allowance` is the most the line can
-- add in the interval, twice its rate (line rated_kw / max_units_per_hour from the registry, else the
-- signal's max_rate_per_hour in the catalog) over the interval, at least a quarter-hour (meter resolution and
-- clock jitter make short intervals lumpy).
--   value < previous is a ROLLOVER only when plausible: a rollover is declared, the previous value is in its
--     upper half, the new one in its lower half, and the increase it implies (value - previous + rollover)
--     fits the allowance -> delta = that increase;
--   else a RESET when the new value is near zero (below half the previous and within the allowance: counted
--     up from 0 in the interval) -> delta = value;
--   else a BACKSTEP (a bad or corrected reading, or rows of two deliveries interleaved): delta 0, flagged.
--   A rollover or reset starts a new segment of the series. Within a segment an increase is measured from the
--   highest reading so far, so a reading that stepped back and recovered adds nothing twice;
--   an increase beyond the allowance is IMPLAUSIBLE: delta 0, flagged.
-- Every flagged interval keeps its row with a flag_reason (data_quality_incidents lists them).
-- Then converted to the canonical unit: delta * scale (the unit offset cancels in a difference).
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

-- the most a tag's line can add per hour, canonical unit
rates as (
    select
        tag_map.plant_id,
        tag_map.source_tag,
        coalesce(
            case signals.quantity
                when 'energy' then lines.rated_kw
                when 'count' then lines.max_units_per_hour
            end,
            signals.max_rate_per_hour
        ) as max_rate_per_hour
    from {{ ref('stg_registry__tag_map') }} as tag_map
    inner join {{ ref('canonical_signals') }} as signals
        on signals.signal = tag_map.signal
    left join {{ ref('stg_registry__lines') }} as lines
        on lines.plant_id = tag_map.plant_id
        and lines.line_id = tag_map.line_id
),

with_previous as (
    select
        counters.*,
        rates.max_rate_per_hour,
        lag(ts_utc) over by_tag as previous_ts_utc,
        lag(source_value) over by_tag as previous_source_value,
        lag(production_date) over by_tag as previous_partition_date
    from counters
    left join rates
        on rates.plant_id = counters.plant_id
        and rates.source_tag = counters.source_tag
    window by_tag as (partition by counters.plant_id, counters.source_tag order by ts_utc)
),

judged as (
    select
        *,
        -- source unit; NULL when no rate is known (then only the halves rule judges a rollover)
        2 * max_rate_per_hour / scale
            * greatest(date_diff('millisecond', previous_ts_utc, ts_utc) / 3600000.0, 0.25) as allowance
    from with_previous
),

restarts as (
    select
        *,
        case
            when source_value >= previous_source_value then null
            when rollover is not null
                and previous_source_value > rollover / 2
                and source_value < rollover / 2
                and source_value - previous_source_value + rollover <= coalesce(allowance, rollover)
                then 'rollover'
            when source_value < previous_source_value / 2
                and source_value <= coalesce(allowance, source_value)
                then 'reset'
        end as restart_kind
    from judged
),

segmented as (
    select
        *,
        sum(case when restart_kind is null then 0 else 1 end) over (
            partition by plant_id, source_tag order by ts_utc rows unbounded preceding
        ) as segment
    from restarts
),

-- the highest reading of the segment before this one (NULL on a restart: nothing before it in its segment;
-- a tag's first reading, which starts no interval, still opens its first segment)
enveloped as (
    select
        *,
        max(source_value) over (
            partition by plant_id, source_tag, segment order by ts_utc
            rows between unbounded preceding and 1 preceding
        ) as segment_high
    from segmented
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
        allowance,
        case
            when restart_kind is not null then restart_kind
            when source_value < segment_high then 'backstep'
            when source_value - segment_high > allowance then 'implausible'
            else 'increase'
        end as delta_kind,
        case
            when restart_kind = 'rollover' then source_value - previous_source_value + rollover
            when restart_kind = 'reset' then source_value
            when source_value < segment_high then 0
            when source_value - segment_high > allowance then 0
            else source_value - segment_high
        end as source_delta,
        previous_partition_date,
        production_date as end_partition_date
    from enveloped
    where previous_ts_utc is not null
),

flagged as (
    select
        *,
        case delta_kind
            when 'backstep' then
                'meter went back from ' || previous_source_value || ' to ' || source_value
                || ': not a plausible rollover'
                || case when rollover is null then ' (none declared)' else ' of ' || rollover end
                || ' nor a reset to near zero; counted 0'
            when 'implausible' then
                'increase to ' || source_value || ' in ' || round(interval_minutes, 1)
                || ' min exceeds the physical allowance ' || round(allowance, 3)
                || ' (source unit); counted 0'
        end as flag_reason
    from deltas
    where previous_partition_date >= end_partition_date - 1
),

placed as (
    select
        flagged.plant_id,
        flagged.source_tag,
        flagged.signal,
        flagged.signal_kind,
        flagged.line_id,
        flagged.asset_id,
        flagged.interval_start_utc,
        flagged.interval_end_utc,
        flagged.interval_minutes,
        date_trunc('hour', flagged.interval_start_utc) as hour_utc,
        {{ local_date('flagged.interval_start_utc', 'plants.timezone') }} as production_date,
        flagged.previous_source_value,
        flagged.source_value,
        flagged.rollover,
        flagged.delta_kind,
        flagged.source_delta,
        flagged.source_delta * flagged.scale as delta,
        flagged.allowance,
        flagged.flag_reason
    from flagged
    inner join plants
        on plants.plant_id = flagged.plant_id
)

select *
from placed
where {{ in_day_window('production_date', 1, 1) }}
