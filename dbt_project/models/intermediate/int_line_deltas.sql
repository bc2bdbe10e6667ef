{{ config(materialized='table') }}
-- Line meter amounts (energy_total, production_count_total, from whichever form each meter reports:
-- int_line_meter_intervals) with the production run that was active
-- on the line at the interval start (start_utc <= interval_start_utc < end_utc). If MES reports
-- overlapping runs on a line, the one that started last wins, so no delta is counted twice.
-- Deltas while no run is active keep NULL order / product columns. ideal_rate_per_min (registry) and
-- run_good_share = good_qty / (good_qty + scrap_qty) of the run (MES) feed performance and quality.
--
-- Working set, not history: intervals starting in [min_date - 1, max_date + 1]; runs are read from
-- the start days [min_date - 2, max_date + 1] (a run is assumed to last less than a day).
with deltas as (
    select *
    from {{ ref('int_line_meter_intervals') }}
),

runs as (
    select
        runs.plant_id,
        runs.order_id,
        runs.line_id,
        runs.product_code,
        runs.start_utc,
        runs.end_utc,
        products.product_family,
        products.mass_kg,
        products.ideal_rate_per_min,
        runs.good_qty / nullif(runs.good_qty + runs.scrap_qty, 0) as run_good_share
    from {{ ref('stg_mes__production_runs') }} as runs
    left join {{ ref('stg_registry__products') }} as products
        on products.plant_id = runs.plant_id
        and products.product_code = runs.product_code
    where {{ in_day_window('runs.production_date', 2, 1) }}
),

attributed as (
    select
        deltas.plant_id,
        deltas.line_id,
        deltas.source_tag,
        deltas.signal,
        deltas.interval_start_utc,
        deltas.interval_end_utc,
        deltas.interval_minutes,
        deltas.hour_utc,
        deltas.production_date,
        deltas.delta,
        runs.order_id,
        runs.product_code,
        runs.product_family,
        runs.mass_kg,
        runs.ideal_rate_per_min,
        runs.run_good_share
    from deltas
    left join runs
        on runs.plant_id = deltas.plant_id
        and runs.line_id = deltas.line_id
        and deltas.interval_start_utc >= runs.start_utc
        and deltas.interval_start_utc < runs.end_utc
    qualify row_number() over (
        partition by deltas.plant_id, deltas.source_tag, deltas.interval_start_utc
        order by runs.start_utc desc nulls last, runs.order_id
    ) = 1
)

select * from attributed
