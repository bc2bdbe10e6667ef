{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'line_id', 'production_date', 'hour_utc', 'product_family'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Output per line, UTC hour, plant-local production day and product family: the production_count_total
-- deltas of the line-hour attributed to the family of the run active at each interval start (the same
-- attribution and hour / day rules as fct_line_energy_hourly, int_line_deltas). Families are free names from
-- plant.yaml, so this is long (one row per family) rather than a column per family. A family has a row in
-- every line-hour in which one of its runs was active, with 0 units when the counter did not move; units
-- counted while no run of a registered product was active have no family and no row here (they are in
-- fct_line_energy_hourly.units_produced, so the families' sum is at most that).
with deltas as (
    select *
    from {{ ref('int_line_deltas') }}
    where {{ in_rebuild_window('production_date') }}
        and signal = 'production_count_total'
        and product_family is not null
)

select
    plant_id,
    line_id,
    hour_utc,
    production_date,
    product_family,
    sum(delta) as units_produced
from deltas
group by plant_id, line_id, hour_utc, production_date, product_family
