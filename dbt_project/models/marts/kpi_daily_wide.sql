{{ config(materialized='view') }}
-- kpi_daily pivoted: one row per plant-day, one column per day-grain KPI of the catalog
-- (seeds/kpi_catalog.csv rows with mart marts.kpi_daily, in catalog order; NULL where undefined).
select
    plant_id,
    production_date
    {%- for kpi in kpi_daily_kpis() %},
    max(value) filter (where kpi = '{{ kpi }}') as {{ kpi }}
    {%- endfor %}
from {{ ref('kpi_daily') }}
group by plant_id, production_date
