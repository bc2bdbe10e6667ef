{{ config(materialized='table') }}
-- The line meters' consumption and output (pieces, or mass) as amounts per interval, from whichever form each tag
-- reports (seeds/canonical_signals.csv: form_of, kind). int_line_deltas and int_production_runs
-- read only this model, so every KPI of energy or units is computed the same way from every form.
--
--   totalizer / counter (energy_total, production_count_total): the increase between consecutive
--     good readings, from int_counter_deltas (rollover and reset are handled there, not here).
--   interval (energy_interval, production_count_interval): a reading is the amount of
--     [ts, ts + interval_min) (tag map interval_min, default 15 min), taken as exported.
--   production_mass_total (t): a totalizer like energy_total; production_mass_flow (t/h) a rate like power.
--   power (active_power, kW; a continuous signal with form_of, canonical unit per hour):
--     LEFT-HOLD integral: a sample holds until the next sample of its tag,
--     amount = value x (t_next - t) in hours, over gaps up to interval_min (default 15 min); a
--     longer gap adds nothing (missing data is not guessed). Exact for the average power of the
--     sample interval stamped at its start; for instantaneous samples one interval's error is at
--     most (max - min power within it) x its length.
--
-- signal is the signal the amount counts as (form_of: energy_total, production_count_total or
-- production_mass_total),
-- source_signal the tag's own. Like a counter delta, an amount belongs to its interval START
-- (hour_utc, plant-local production_date).
--
-- Working set: intervals starting in [min_date - 1, max_date + 1] (as int_counter_deltas).
with forms as (
    select signal, kind, coalesce(nullif(form_of, ''), signal) as counts_as
    from {{ ref('canonical_signals') }}
    where coalesce(nullif(form_of, ''), signal) in ('energy_total', 'production_count_total', 'production_mass_total')
),

plants as (
    select plant_id, timezone from {{ ref('stg_registry__plants') }}
),

counter_deltas as (
    select
        plant_id,
        source_tag,
        signal as source_signal,
        signal,
        line_id,
        interval_start_utc,
        interval_end_utc,
        interval_minutes,
        hour_utc,
        production_date,
        delta
    from {{ ref('int_counter_deltas') }}
    where signal in ('energy_total', 'production_count_total', 'production_mass_total')
),

readings as (
    select
        readings.plant_id,
        readings.source_tag,
        readings.signal as source_signal,
        forms.counts_as as signal,
        forms.kind,
        readings.line_id,
        readings.ts_utc,
        readings.canonical_value,
        coalesce(tag_map.interval_min, 15) as interval_min,
        lead(readings.ts_utc) over (
            partition by readings.plant_id, readings.source_tag order by readings.ts_utc
        ) as next_ts_utc
    from {{ ref('int_signal_readings') }} as readings
    inner join forms
        on forms.signal = readings.signal
        and forms.kind in ('interval', 'continuous')
    inner join {{ ref('stg_registry__tag_map') }} as tag_map
        on tag_map.plant_id = readings.plant_id
        and tag_map.source_tag = readings.source_tag
),

form_amounts as (
    -- interval form: the reading's own interval
    select
        plant_id, source_tag, source_signal, signal, line_id,
        ts_utc as interval_start_utc,
        ts_utc + to_microseconds(cast(round(interval_min * 60000000) as bigint)) as interval_end_utc,
        interval_min as interval_minutes,
        canonical_value as delta
    from readings
    where kind = 'interval'

    union all

    -- power form: left-hold over the gap to the next sample, if it is no longer than interval_min
    select
        plant_id, source_tag, source_signal, signal, line_id,
        ts_utc as interval_start_utc,
        next_ts_utc as interval_end_utc,
        date_diff('millisecond', ts_utc, next_ts_utc) / 60000.0 as interval_minutes,
        canonical_value * date_diff('millisecond', ts_utc, next_ts_utc) / 3600000.0 as delta
    from readings
    where kind = 'continuous'
        and next_ts_utc is not null
        and date_diff('millisecond', ts_utc, next_ts_utc) <= interval_min * 60000
),

placed as (
    select
        form_amounts.plant_id,
        form_amounts.source_tag,
        form_amounts.source_signal,
        form_amounts.signal,
        form_amounts.line_id,
        form_amounts.interval_start_utc,
        form_amounts.interval_end_utc,
        form_amounts.interval_minutes,
        date_trunc('hour', form_amounts.interval_start_utc) as hour_utc,
        {{ local_date('form_amounts.interval_start_utc', 'plants.timezone') }} as production_date,
        form_amounts.delta
    from form_amounts
    inner join plants
        on plants.plant_id = form_amounts.plant_id
)

select * from counter_deltas

union all

select *
from placed
where {{ in_day_window('production_date', 1, 1) }}
