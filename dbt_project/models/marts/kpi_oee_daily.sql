{{ config(materialized='view') }}
-- The ISO 22400-2 OEE tree per plant-day: OEE and its factors with the times behind them.
select
    plant_id,
    production_date,
    oee,
    availability,
    performance,
    quality_ratio,
    planned_busy_time_min,
    actual_production_time_min,
    unplanned_downtime_min,
    planned_downtime_min,
    units_produced,
    scrap_ratio,
    throughput_rate,
    technical_efficiency,
    mtbf_min,
    mttr_min
from {{ ref('kpi_daily_wide') }}
