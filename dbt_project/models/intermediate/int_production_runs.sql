-- Production runs with the energy and units the line's meters recorded during the run:
--   energy_kwh     = sum of the line's energy_total deltas whose interval start is in [start_utc, end_utc)
--   units_produced = sum of the line's production_count_total deltas in the same window
-- NULL when no meter interval of that signal falls in the run. Amounts come from
-- int_line_meter_intervals (any form: totalizer, per-interval or power). Product family and unit mass come
-- from the registry.
--
-- Runs of the rebuilt start days [min_date - 1, max_date]; their deltas may reach max_date + 1.
with runs as (
    select *
    from {{ ref('stg_mes__production_runs') }}
    where {{ in_rebuild_window('production_date') }}
),

products as (
    select * from {{ ref('stg_registry__products') }}
),

deltas as (
    select *
    from {{ ref('int_line_meter_intervals') }}
)

select
    runs.plant_id,
    runs.order_id,
    runs.line_id,
    runs.product_code,
    products.product_family,
    products.mass_kg,
    runs.production_date,
    runs.start_utc,
    runs.end_utc,
    runs.good_qty,
    runs.scrap_qty,
    sum(deltas.delta) filter (where deltas.signal = 'production_count_total') as units_produced,
    sum(deltas.delta) filter (where deltas.signal = 'energy_total') as energy_kwh
from runs
left join products
    on products.plant_id = runs.plant_id
    and products.product_code = runs.product_code
left join deltas
    on deltas.plant_id = runs.plant_id
    and deltas.line_id = runs.line_id
    and deltas.interval_start_utc >= runs.start_utc
    and deltas.interval_start_utc < runs.end_utc
group by
    runs.plant_id,
    runs.order_id,
    runs.line_id,
    runs.product_code,
    products.product_family,
    products.mass_kg,
    runs.production_date,
    runs.start_utc,
    runs.end_utc,
    runs.good_qty,
    runs.scrap_qty
