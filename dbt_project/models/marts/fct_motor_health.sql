{{ config(materialized='view') }}
-- Motor health red / yellow / green per motor and day (the alerting view), from
-- fct_motor_health_daily (vibration zone per ISO 20816-3) escalated by the bearing temperature trend:
--   bearing_temp_trend_c = day mean bearing temperature - mean of the previous 7 days' means
--   escalated when trend >= machine class temp_rise_escalation_c: green -> yellow, yellow -> red.
-- A view, so the trend always uses the current history (a late day updates the days after it).
-- Acceleration (m/s^2) has no zone: health stays NULL for a motor measured only by acceleration (the
-- motor health template judges it by its trend against its own baseline).
with daily as (
    select * from {{ ref('fct_motor_health_daily') }}
),

classes as (
    select machine_class, temp_rise_escalation_c from {{ ref('machine_classes') }}
),

trended as (
    select
        daily.*,
        classes.temp_rise_escalation_c,
        round(daily.bearing_temp_mean_c - avg(daily.bearing_temp_mean_c) over (
            partition by daily.plant_id, daily.motor_id
            order by daily.production_date
            range between interval 7 days preceding and interval 1 day preceding
        ), 3) as bearing_temp_trend_c
    from daily
    left join classes
        on classes.machine_class = daily.machine_class
)

select
    plant_id,
    motor_id,
    line_id,
    production_date,
    machine_class,
    vibration_mean_mms,
    acceleration_mean_ms2,
    zone,
    health as vibration_health,
    bearing_temp_mean_c,
    bearing_temp_trend_c,
    coalesce(bearing_temp_trend_c >= temp_rise_escalation_c, false) as temperature_escalated,
    case
        when health is null then null
        when coalesce(bearing_temp_trend_c >= temp_rise_escalation_c, false) then
            case health when 'green' then 'yellow' else 'red' end
        else health
    end as health
from trended
