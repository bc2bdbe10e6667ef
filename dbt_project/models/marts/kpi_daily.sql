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
-- without events of a plant that configures the export; a KPI whose inputs the plant lacks (no
-- such export, no state source), or that is undefined on a day (no meter data, a ratio with a
-- zero denominator), has no row, never 0. The time model (PBT, APT, ADET) comes from MES when the
-- plant configures both MES exports, from the historian's machine state when it configures
-- neither (int_line_minute_states); running / idle / down minutes and utilisation always from the
-- machine state (int_line_state_minutes).
--
-- ISO 22400-2 time model from int_line_minute_states (1-minute grid, summed over the plant's lines):
-- PBT planned busy time, APT actual production time, ADET unplanned downtime, PDOT planned
-- downtime, AOET order execution time. Quantities from the piece counters (int_line_deltas):
-- PQ = units_produced; PRI x PQ = sum(delta / ideal_rate) of units counted during an order;
-- GQ = sum(delta x run good share) with each run's good share from MES (runs crossing midnight are
-- split by the counter). Formulas per KPI: seeds/kpi_catalog.csv (marts.dim_kpi).
with days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
),

meters as (
    select
        plant_id,
        production_date,
        sum(delta) filter (where signal = 'energy_total') as energy_kwh,
        sum(delta) filter (where signal = 'production_count_total') as units_produced,
        -- tonnage: counted units x their product's unit mass, or a mass meter (belt scale: totalizer or
        -- mass flow, int_line_meter_intervals); a line maps one production form
        sum(
            case
                when signal = 'production_mass_total' then delta
                when signal = 'production_count_total' then delta * mass_kg / 1000.0
            end
        ) as produced_tonnes,
        -- ISO 22400-2 PRI x PQ: ideal minutes of the units counted during an order of a product
        -- with a known ideal rate
        sum(delta / ideal_rate_per_min) filter (
            where signal = 'production_count_total' and ideal_rate_per_min > 0
        ) as ideal_minutes,
        -- quality: counted units during an order with its run's good share (MES), and all of them
        sum(delta * run_good_share) filter (
            where signal = 'production_count_total' and run_good_share is not null
        ) as good_units_prorated,
        sum(delta) filter (
            where signal = 'production_count_total' and run_good_share is not null
        ) as units_in_reported_runs
    from {{ ref('int_line_deltas') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

plants as (
    select
        plant_id,
        has_production_runs as has_runs,
        has_downtime_events as has_downtime
    from {{ ref('stg_registry__plants') }}
),

-- machine state from the historian (flag, enumerated state or threshold), per plant-day
machine as (
    select
        plant_id,
        production_date,
        count(*) filter (where state = 'running') as running_min,
        count(*) filter (where state = 'idle') as idle_min,
        count(*) filter (where state = 'down') as down_min
    from {{ ref('int_line_state_minutes') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

states as (
    select
        plant_id,
        production_date,
        count(*) filter (where in_pbt) as planned_busy_time_min,
        count(*) filter (where is_apt) as actual_production_time_min,
        count(*) filter (where is_adet) as unplanned_downtime_min,
        count(*) filter (where state = 'planned_downtime') as planned_downtime_min,
        count(*) filter (where in_order) as order_execution_time_min
    from {{ ref('int_line_minute_states') }}
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

stops as (
    select
        plant_id,
        production_date,
        count(*) filter (where category = 'unplanned') as unplanned_stops,
        count(*) filter (where category = 'planned') as planned_stops,
        sum(duration_min) filter (where category = 'unplanned') as unplanned_stop_duration_min
    from {{ ref('stg_mes__downtime_events') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

-- water volume per plant-day from the water_flow tags (a treatment plant's inflow), m3/h canonical: each
-- tag's time-weighted mean over the local day (a reading holds until the tag's next one that day, or the day's
-- end) times the day's hours (23 / 24 / 25), so a daily log's one reading, the day's average, counts whole
water_readings as (
    select
        readings.plant_id,
        readings.production_date,
        readings.source_tag,
        readings.ts_utc,
        readings.canonical_value,
        timezone('UTC', timezone(zones.timezone, cast(readings.production_date as timestamp))) as day_start_utc,
        timezone('UTC', timezone(zones.timezone, cast(readings.production_date + 1 as timestamp))) as day_end_utc
    from {{ ref('int_signal_readings') }} as readings
    inner join {{ ref('stg_registry__plants') }} as zones
        on zones.plant_id = readings.plant_id
    where readings.signal = 'water_flow'
        and {{ in_rebuild_window('readings.production_date') }}
),

water_held as (
    select
        *,
        date_diff('millisecond', ts_utc, coalesce(least(lead(ts_utc) over (
            partition by plant_id, production_date, source_tag order by ts_utc
        ), day_end_utc), day_end_utc)) as held_ms
    from water_readings
),

water_tags as (
    select
        plant_id,
        production_date,
        sum(canonical_value * held_ms) / nullif(sum(held_ms), 0)
            * date_diff('millisecond', min(day_start_utc), min(day_end_utc)) / 3600000.0 as water_m3
    from water_held
    group by plant_id, production_date, source_tag
),

water as (
    select plant_id, production_date, sum(water_m3) as water_m3
    from water_tags
    group by plant_id, production_date
),

-- lab quality (fct_lab_quality): all characteristics of the day pooled for the share out of spec,
-- the worst (lowest) Cpk of any line / product / characteristic with enough values for cpk_min
lab as (
    select
        plant_id,
        production_date,
        sum(samples) as lab_sample_count,
        sum(out_of_spec_samples) / sum(samples) as out_of_spec_share,
        min(cpk) as cpk_min
    from {{ ref('fct_lab_quality') }}
    where {{ in_rebuild_window('production_date') }}
    group by plant_id, production_date
),

joined as (
    select
        days.plant_id,
        days.production_date,
        meters.energy_kwh,
        meters.units_produced,
        meters.produced_tonnes,
        meters.ideal_minutes,
        meters.good_units_prorated,
        meters.units_in_reported_runs,
        case when coalesce(plants.has_runs, true) then coalesce(runs.good_qty, 0) end as good_qty,
        case when coalesce(plants.has_runs, true) then coalesce(runs.scrap_qty, 0) end as scrap_qty,
        -- the time model exists with both MES exports, or without MES when the machine state is known
        case when (coalesce(plants.has_runs, true) and coalesce(plants.has_downtime, true))
            or (not coalesce(plants.has_runs, true) and not coalesce(plants.has_downtime, true) and machine.plant_id is not null)
            then true end as has_time,
        states.planned_busy_time_min,
        states.actual_production_time_min,
        states.unplanned_downtime_min,
        case when coalesce(plants.has_runs, true) and coalesce(plants.has_downtime, true) then coalesce(states.planned_downtime_min, 0) end as pdot,
        case when coalesce(plants.has_runs, true) then coalesce(states.order_execution_time_min, 0) end as aoet,
        case when coalesce(plants.has_downtime, true) then coalesce(stops.unplanned_stops, 0) end as unplanned_stops,
        case when coalesce(plants.has_downtime, true) then coalesce(stops.planned_stops, 0) end as planned_stops,
        stops.unplanned_stop_duration_min,
        machine.running_min,
        machine.idle_min,
        machine.down_min,
        lab.lab_sample_count,
        lab.out_of_spec_share,
        lab.cpk_min,
        water.water_m3
    from days
    left join plants
        on plants.plant_id = days.plant_id
    left join machine
        on machine.plant_id = days.plant_id
        and machine.production_date = days.production_date
    left join meters
        on meters.plant_id = days.plant_id
        and meters.production_date = days.production_date
    left join states
        on states.plant_id = days.plant_id
        and states.production_date = days.production_date
    left join runs
        on runs.plant_id = days.plant_id
        and runs.production_date = days.production_date
    left join stops
        on stops.plant_id = days.plant_id
        and stops.production_date = days.production_date
    left join lab
        on lab.plant_id = days.plant_id
        and lab.production_date = days.production_date
    left join water
        on water.plant_id = days.plant_id
        and water.production_date = days.production_date
    where {{ in_rebuild_window('days.production_date') }}
),

timed as (
    select
        *,
        case when has_time then coalesce(planned_busy_time_min, 0) end as pbt,
        case when has_time then coalesce(actual_production_time_min, 0) end as apt,
        case when has_time then coalesce(unplanned_downtime_min, 0) end as adet
    from joined
),

ratios as (
    select
        *,
        apt / nullif(pbt, 0) as availability_ratio,
        ideal_minutes / nullif(apt, 0) as performance_ratio,
        good_units_prorated / nullif(units_in_reported_runs, 0) as quality_ratio_value
    from timed
),

-- one column per KPI, named as its kpi in seeds/kpi_catalog.csv
daily as (
    select
        plant_id,
        production_date,
        energy_kwh,
        units_produced,
        energy_kwh / nullif(units_produced, 0) as kwh_per_unit,
        energy_kwh / nullif(produced_tonnes, 0) as energy_per_ton,
        produced_tonnes as produced_mass_t,
        energy_kwh / nullif(water_m3, 0) as kwh_per_m3_water,
        good_qty,
        scrap_qty,
        1 - quality_ratio_value as scrap_ratio,
        cast(adet as double) as unplanned_downtime_min,
        cast(pdot as double) as planned_downtime_min,
        cast(unplanned_stops as double) as unplanned_stop_count,
        cast(planned_stops as double) as planned_stop_count,
        apt / nullif(unplanned_stops, 0) as mtbf_min,
        unplanned_stop_duration_min / nullif(unplanned_stops, 0) as mttr_min,
        cast(pbt as double) as planned_busy_time_min,
        cast(apt as double) as actual_production_time_min,
        availability_ratio as availability,
        performance_ratio as performance,
        quality_ratio_value as quality_ratio,
        availability_ratio * performance_ratio * quality_ratio_value as oee,
        quality_ratio_value as first_pass_yield,
        units_produced / nullif(aoet, 0) as throughput_rate,
        apt / nullif(apt + adet, 0) as technical_efficiency,
        cast(lab_sample_count as double) as lab_sample_count,
        cast(out_of_spec_share as double) as out_of_spec_share,
        cpk_min,
        cast(running_min as double) as running_min,
        cast(idle_min as double) as idle_min,
        cast(down_min as double) as down_min,
        running_min / nullif(running_min + idle_min + down_min, 0) as utilisation
    from ratios
),

-- wide -> long, one row per KPI column of daily; UNPIVOT leaves out NULL values (undefined KPIs)
long as (
    unpivot daily
    on columns(* exclude (plant_id, production_date))
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
