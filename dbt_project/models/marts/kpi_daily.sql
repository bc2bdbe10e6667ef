{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'production_date', 'kpi'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Daily KPIs per plant in long form (plant_id x plant-local production day x kpi). Definitions and
-- units come from the KPI catalog (seeds/kpi_catalog.csv, published as dim_kpi).
--
-- Days: the plant-days whose raw gate passed. Sums of MES quantities and downtime are 0 on a day
-- without events; a KPI that is undefined on a day (no meter data, or a ratio with a zero
-- denominator) has no row.
with days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
),

meters as (
    select
        plant_id,
        production_date,
        sum(delta) filter (where signal = 'energy_total') as energy_kwh,
        sum(delta) filter (where signal = 'production_count_total') as units_produced,
        sum(delta * mass_kg / 1000.0) filter (
            where signal = 'production_count_total' and mass_kg is not null
        ) as produced_tonnes
    from {{ ref('int_line_deltas') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

runs as (
    select
        plant_id,
        production_date,
        sum(good_qty) as good_qty,
        sum(scrap_qty) as scrap_qty
    from {{ ref('stg_mes__production_runs') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

downtime as (
    select
        plant_id,
        production_date,
        sum(duration_min) filter (where category = 'unplanned') as unplanned_downtime_min,
        sum(duration_min) filter (where category = 'planned') as planned_downtime_min
    from {{ ref('stg_mes__downtime_events') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

daily as (
    select
        days.plant_id,
        days.production_date,
        meters.energy_kwh,
        meters.units_produced,
        meters.energy_kwh / nullif(meters.units_produced, 0) as kwh_per_unit,
        meters.energy_kwh / nullif(meters.produced_tonnes, 0) as energy_per_ton,
        coalesce(runs.good_qty, 0) as good_qty,
        coalesce(runs.scrap_qty, 0) as scrap_qty,
        runs.scrap_qty / nullif(runs.good_qty + runs.scrap_qty, 0) as scrap_ratio,
        coalesce(downtime.unplanned_downtime_min, 0) as unplanned_downtime_min,
        coalesce(downtime.planned_downtime_min, 0) as planned_downtime_min
    from days
    left join meters
        on meters.plant_id = days.plant_id
        and meters.production_date = days.production_date
    left join runs
        on runs.plant_id = days.plant_id
        and runs.production_date = days.production_date
    left join downtime
        on downtime.plant_id = days.plant_id
        and downtime.production_date = days.production_date
    where {{ in_rebuild_window('days.production_date') }}
),

-- wide -> long; UNPIVOT leaves out NULL values (undefined KPIs)
long as (
    unpivot daily
    on
        energy_kwh,
        units_produced,
        kwh_per_unit,
        energy_per_ton,
        good_qty,
        scrap_qty,
        scrap_ratio,
        unplanned_downtime_min,
        planned_downtime_min
    into name kpi value value
)

select
    long.plant_id,
    long.production_date,
    long.kpi,
    cast(long.value as double) as value,
    catalog.unit
from long
inner join {{ ref('kpi_catalog') }} as catalog
    on catalog.kpi = long.kpi
