{{ config(materialized='table') }}
-- ISO 50006 energy performance per plant-day against the plant's energy baseline (EnB).
--
-- Baseline model per plant: ordinary least squares of daily energy_kwh on daily units_produced over
-- the baseline days (registry plants.baseline_start .. baseline_end, from plant.yaml), i.e.
--   expected_kwh = intercept + slope * units_produced
-- enpi_normalized        = energy_kwh / expected_kwh                   (1 = as in the baseline)
-- enpi_ratio_vs_baseline = kwh_per_unit / baseline kWh/unit (sum energy / sum units of the baseline)
-- The model needs >= 3 baseline days with varying units; otherwise the normalized columns are NULL.
--
-- A table over all of kpi_daily (small: plants x days), rebuilt on every run: a late export for a
-- baseline day changes the coefficients of every day, and rebuilding whole keeps every run equal
-- to a full refresh.
with daily as (
    pivot (
        select plant_id, production_date, kpi, value
        from {{ ref('kpi_daily') }}
        where kpi in ('energy_kwh', 'units_produced')
    )
    on kpi in ('energy_kwh', 'units_produced')
    using first(value)
),

plants as (
    select plant_id, baseline_start, baseline_end from {{ ref('stg_registry__plants') }}
),

baseline as (
    select
        daily.plant_id,
        count(*) as baseline_days,
        -- rounded (1e-9 kWh/unit, 1e-6 kWh) so reruns and platforms agree to the last digit
        round(regr_slope(daily.energy_kwh, daily.units_produced), 9) as slope_kwh_per_unit,
        round(regr_intercept(daily.energy_kwh, daily.units_produced), 6) as intercept_kwh,
        round(regr_r2(daily.energy_kwh, daily.units_produced), 6) as r_squared,
        sum(daily.energy_kwh) / nullif(sum(daily.units_produced), 0) as baseline_kwh_per_unit,
        var_samp(daily.units_produced) as units_variance
    from daily
    inner join plants
        on plants.plant_id = daily.plant_id
        and daily.production_date between plants.baseline_start and plants.baseline_end
    where daily.energy_kwh is not null and daily.units_produced is not null
    group by daily.plant_id
),

usable as (
    select
        *,
        baseline_days >= 3 and coalesce(units_variance, 0) > 0 as model_usable
    from baseline
)

select
    daily.plant_id,
    daily.production_date,
    plants.baseline_start,
    plants.baseline_end,
    daily.production_date between plants.baseline_start and plants.baseline_end as in_baseline,
    daily.energy_kwh,
    daily.units_produced,
    daily.energy_kwh / nullif(daily.units_produced, 0) as kwh_per_unit,
    usable.baseline_days,
    usable.baseline_kwh_per_unit,
    case when usable.model_usable then usable.intercept_kwh end as baseline_intercept_kwh,
    case when usable.model_usable then usable.slope_kwh_per_unit end as baseline_slope_kwh_per_unit,
    case when usable.model_usable then usable.r_squared end as baseline_r_squared,
    case
        when usable.model_usable then usable.intercept_kwh + usable.slope_kwh_per_unit * daily.units_produced
    end as expected_kwh,
    case
        when usable.model_usable
            then round(daily.energy_kwh / nullif(usable.intercept_kwh + usable.slope_kwh_per_unit * daily.units_produced, 0), 9)
    end as enpi_normalized,
    round((daily.energy_kwh / nullif(daily.units_produced, 0)) / nullif(usable.baseline_kwh_per_unit, 0), 9)
        as enpi_ratio_vs_baseline
from daily
inner join plants
    on plants.plant_id = daily.plant_id
left join usable
    on usable.plant_id = daily.plant_id
where daily.energy_kwh is not null
