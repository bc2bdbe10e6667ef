{{ config(materialized='view') }}
-- Energy KPIs per plant-day: consumption, simple-ratio EnPIs and the baseline-normalized EnPI.
select
    wide.plant_id,
    wide.production_date,
    wide.energy_kwh,
    wide.units_produced,
    wide.kwh_per_unit,
    wide.energy_per_ton,
    enpi.expected_kwh,
    enpi.enpi_normalized,
    enpi.enpi_ratio_vs_baseline,
    enpi.in_baseline
from {{ ref('kpi_daily_wide') }} as wide
left join {{ ref('fct_enpi_daily') }} as enpi
    on enpi.plant_id = wide.plant_id
    and enpi.production_date = wide.production_date
