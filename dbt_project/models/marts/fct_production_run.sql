{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'order_id', 'start_utc'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- One row per production run (order) with the energy its line used while it ran.
--   kwh_per_unit       = energy_kwh / units_produced                       (NULL when no units)
--   energy_per_ton_kwh = energy_kwh / (units_produced * mass_kg / 1000)    (NULL when mass unknown)
-- production_date is the plant-local day the run starts in; a run that runs past midnight gets the
-- meter intervals of the next day too (the next day's incremental run rebuilds it).
with runs as (
    select *
    from {{ ref('int_production_runs') }}
    where {{ in_rebuild_window('production_date') }}
)

select
    plant_id,
    order_id,
    line_id,
    product_code,
    product_family,
    production_date,
    start_utc,
    end_utc,
    good_qty,
    scrap_qty,
    units_produced,
    energy_kwh,
    energy_kwh / nullif(units_produced, 0) as kwh_per_unit,
    energy_kwh / nullif(units_produced * mass_kg / 1000.0, 0) as energy_per_ton_kwh
from runs
