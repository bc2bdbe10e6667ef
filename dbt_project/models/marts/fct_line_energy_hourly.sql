{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'line_id', 'production_date', 'hour_utc'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Energy and output per line and UTC hour: the ML feature / target table of the energy baseline.
-- A meter interval belongs to the UTC hour and plant-local day of its START. In a plant whose UTC
-- offset is not a whole number of hours (Asia/Kolkata, +05:30) one UTC hour can hold the end of one
-- local day and the start of the next, hence production_date is part of the grain.
with deltas as (
    select *
    from {{ ref('int_line_deltas') }}
    where {{ in_rebuild_window('production_date') }}
)

select
    plant_id,
    line_id,
    hour_utc,
    production_date,
    coalesce(sum(delta) filter (where signal = 'energy_total'), 0) as energy_kwh,
    coalesce(sum(delta) filter (where signal = 'production_count_total'), 0) as units_produced,
    coalesce(
        sum(interval_minutes) filter (where signal = 'production_count_total' and delta > 0), 0
    ) as running_minutes,
    -- Minutes of the hour the energy meter covers (60, or 30 where a local day starts mid-hour,
    -- or less when readings are missing): lets a model tell a short row from a low one.
    coalesce(sum(interval_minutes) filter (where signal = 'energy_total'), 0) as interval_minutes
from deltas
group by plant_id, line_id, hour_utc, production_date
