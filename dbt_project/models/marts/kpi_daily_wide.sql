{{ config(materialized='view') }}
-- kpi_daily pivoted: one row per plant-day, one column per KPI (NULL where undefined).
{%- set kpis = ['energy_kwh', 'units_produced', 'kwh_per_unit', 'energy_per_ton', 'good_qty', 'scrap_qty',
    'scrap_ratio', 'unplanned_downtime_min', 'planned_downtime_min', 'unplanned_stop_count',
    'planned_stop_count', 'mtbf_min', 'mttr_min', 'planned_busy_time_min', 'actual_production_time_min',
    'availability', 'performance', 'quality_ratio', 'oee', 'first_pass_yield', 'throughput_rate',
    'technical_efficiency', 'lab_sample_count', 'out_of_spec_share', 'cpk_min'] %}
select
    plant_id,
    production_date,
    {%- for kpi in kpis %}
    max(value) filter (where kpi = '{{ kpi }}') as {{ kpi }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('kpi_daily') }}
group by plant_id, production_date
