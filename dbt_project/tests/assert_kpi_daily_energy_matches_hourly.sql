-- Reconciliation: a plant-day's energy_kwh and units_produced in kpi_daily equal the sums over the
-- plant's lines and hours in fct_line_energy_hourly (both built from the same meter intervals).
with hourly as (
    select
        plant_id,
        production_date,
        sum(energy_kwh) as energy_kwh,
        sum(units_produced) as units_produced
    from {{ ref('fct_line_energy_hourly') }}
    group by plant_id, production_date
),

daily as (
    select
        plant_id,
        production_date,
        max(value) filter (where kpi = 'energy_kwh') as energy_kwh,
        max(value) filter (where kpi = 'units_produced') as units_produced
    from {{ ref('kpi_daily') }}
    group by plant_id, production_date
)

select
    coalesce(hourly.plant_id, daily.plant_id) as plant_id,
    coalesce(hourly.production_date, daily.production_date) as production_date,
    hourly.energy_kwh as hourly_energy_kwh,
    daily.energy_kwh as daily_energy_kwh,
    hourly.units_produced as hourly_units,
    daily.units_produced as daily_units
from hourly
full outer join daily
    on daily.plant_id = hourly.plant_id
    and daily.production_date = hourly.production_date
where abs(coalesce(hourly.energy_kwh, 0) - coalesce(daily.energy_kwh, 0)) > 1e-6
    or abs(coalesce(hourly.units_produced, 0) - coalesce(daily.units_produced, 0)) > 1e-6
