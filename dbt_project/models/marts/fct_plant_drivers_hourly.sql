{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'production_date', 'hour_utc', 'driver'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- The candidate relevant variables (ISO 50006) of a plant's energy baseline besides its output: per plant,
-- UTC hour and plant-local day, the mean of each continuous line-level signal the plant maps (outdoor
-- temperature, flows, loads, speeds: every continuous line signal that is not a form of an energy or output
-- totalizer), and the line-minutes its state tags say were running. The energy template tests which of
-- them matter for each plant (ml/templates/energy_baseline.py); a driver the plant does not map has no row.
with driver_signals as (
    select signal
    from {{ ref('canonical_signals') }}
    where kind = 'continuous'
        and asset_level = 'line'
        and coalesce(form_of, '') = ''
),

readings as (
    select
        readings.plant_id,
        readings.production_date,
        date_trunc('hour', readings.ts_utc) as hour_utc,
        readings.signal as driver,
        readings.canonical_value
    from {{ ref('int_signal_readings') }} as readings
    inner join driver_signals
        on driver_signals.signal = readings.signal
    where {{ in_rebuild_window('readings.production_date') }}
),

signal_means as (
    select
        plant_id,
        production_date,
        hour_utc,
        driver,
        avg(canonical_value) as value,
        count(*) as readings
    from readings
    group by plant_id, production_date, hour_utc, driver
),

running_by_state as (
    select
        plant_id,
        production_date,
        date_trunc('hour', minute_utc) as hour_utc,
        'running_minutes_by_state' as driver,
        cast(count(*) filter (where state = 'running') as double) as value,
        count(*) as readings
    from {{ ref('int_line_state_minutes') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date, date_trunc('hour', minute_utc)
)

select * from signal_means
union all
select * from running_by_state
