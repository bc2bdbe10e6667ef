{{ config(materialized='table') }}
-- Cross-plant benchmark for the central team: one row per plant, month and KPI, with flags where the
-- KPI is NOT comparable between plants.
--
-- Monthly values are ratios of monthly sums (not means of daily ratios):
--   kwh_per_unit = sum energy / sum units; availability = sum APT / sum PBT;
--   performance = sum(performance x APT) / sum APT; quality_ratio = sum(quality x PQ) / sum PQ;
--   oee = availability x performance x quality_ratio; enpi_normalized = sum energy / sum expected.
-- Flags (vars in dbt_project.yml):
--   low_coverage         days with the KPI / days of the month the warehouse covers (any plant)
--                        < benchmark_min_coverage
--   baseline_differs     (energy KPIs) the plant's baseline period differs from the most common
--                        baseline period of the plants
--   product_mix_differs  (energy and rate KPIs) for some product family, the plant's share of its
--                        units differs from the median share of all plants in the month by more
--                        than benchmark_max_mix_gap. Families are free names (plant.yaml): plants
--                        that share a name are taken to make the same kind of product, a family
--                        only one plant names is a share no other plant has. Shares are of the
--                        units with a known family (fct_family_output_hourly); a plant without
--                        any has no mix and is not flagged for it.
-- comparable = no flag raised. Rebuilt whole on every run (small), so it equals a full refresh.
with wide as (
    select
        wide.*,
        enpi.expected_kwh,
        date_trunc('month', wide.production_date) as month
    from {{ ref('kpi_daily_wide') }} as wide
    left join {{ ref('fct_enpi_daily') }} as enpi
        on enpi.plant_id = wide.plant_id
        and enpi.production_date = wide.production_date
),

covered_days as (
    select month, count(distinct production_date) as days_covered
    from wide
    group by month
),

family_units as (
    select
        plant_id,
        date_trunc('month', production_date) as month,
        product_family,
        sum(units_produced) as units
    from {{ ref('fct_family_output_hourly') }}
    group by all
),

plant_units as (
    select plant_id, month, sum(units) as units
    from family_units
    group by all
    having sum(units) > 0
),

-- Every family any plant made that month, for every plant with output (0 for a family it did not make).
family_shares as (
    select
        plant_units.plant_id,
        plant_units.month,
        families.product_family,
        coalesce(family_units.units, 0) / plant_units.units as share
    from plant_units
    inner join (select distinct month, product_family from family_units) as families
        on families.month = plant_units.month
    left join family_units
        on family_units.plant_id = plant_units.plant_id
        and family_units.month = plant_units.month
        and family_units.product_family = families.product_family
),

family_medians as (
    select month, product_family, median(share) as median_share
    from family_shares
    group by all
),

-- The family whose share is furthest from the plants' median (ties: the first name): the plant's mix gap.
mix as (
    select
        family_shares.plant_id,
        family_shares.month,
        family_shares.product_family as mix_family,
        family_shares.share as mix_family_share,
        family_medians.median_share as median_mix_family_share
    from family_shares
    inner join family_medians
        on family_medians.month = family_shares.month
        and family_medians.product_family = family_shares.product_family
    qualify row_number() over (
        partition by family_shares.plant_id, family_shares.month
        order by abs(family_shares.share - family_medians.median_share) desc, family_shares.product_family
    ) = 1
),

plants as (
    select plant_id, baseline_start, baseline_end from {{ ref('stg_registry__plants') }}
),

common_baseline as (
    select baseline_start, baseline_end
    from plants
    group by all
    order by count(*) desc, baseline_start, baseline_end
    limit 1
),

monthly as (
    select
        plant_id,
        month,
        sum(energy_kwh) / nullif(sum(units_produced) filter (where energy_kwh is not null), 0) as kwh_per_unit,
        sum(actual_production_time_min) / nullif(sum(planned_busy_time_min), 0) as availability,
        sum(performance * actual_production_time_min) / nullif(sum(actual_production_time_min) filter (where performance is not null), 0) as performance,
        sum(quality_ratio * units_produced) / nullif(sum(units_produced) filter (where quality_ratio is not null), 0) as quality_ratio,
        sum(energy_kwh) filter (where expected_kwh is not null) / nullif(sum(expected_kwh), 0) as enpi_normalized,
        count(*) filter (where kwh_per_unit is not null) as days_kwh_per_unit,
        count(*) filter (where availability is not null) as days_availability,
        count(*) filter (where performance is not null) as days_performance,
        count(*) filter (where quality_ratio is not null) as days_quality_ratio,
        count(*) filter (where oee is not null) as days_oee,
        count(*) filter (where expected_kwh is not null) as days_enpi_normalized
    from wide
    group by plant_id, month
),

long as (
    select plant_id, month, 'kwh_per_unit' as kpi, kwh_per_unit as value, days_kwh_per_unit as days_with_value from monthly
    union all select plant_id, month, 'availability', availability, days_availability from monthly
    union all select plant_id, month, 'performance', performance, days_performance from monthly
    union all select plant_id, month, 'quality_ratio', quality_ratio, days_quality_ratio from monthly
    union all select plant_id, month, 'oee', availability * performance * quality_ratio, days_oee from monthly
    union all select plant_id, month, 'enpi_normalized', enpi_normalized, days_enpi_normalized from monthly
),

flagged as (
    select
        long.plant_id,
        cast(long.month as date) as month,
        long.kpi,
        long.value,
        long.days_with_value,
        covered_days.days_covered,
        long.days_with_value / covered_days.days_covered as coverage,
        plants.baseline_start,
        plants.baseline_end,
        mix.mix_family,
        mix.mix_family_share,
        mix.median_mix_family_share,
        long.days_with_value / covered_days.days_covered < {{ var('benchmark_min_coverage') }} as low_coverage,
        long.kpi in ('kwh_per_unit', 'enpi_normalized')
            and (plants.baseline_start is distinct from common_baseline.baseline_start
                 or plants.baseline_end is distinct from common_baseline.baseline_end) as baseline_differs,
        long.kpi in ('kwh_per_unit', 'enpi_normalized', 'performance', 'oee')
            and coalesce(abs(mix.mix_family_share - mix.median_mix_family_share)
                         > {{ var('benchmark_max_mix_gap') }}, false) as product_mix_differs
    from long
    inner join covered_days on covered_days.month = long.month
    inner join plants on plants.plant_id = long.plant_id
    cross join common_baseline
    left join mix on mix.plant_id = long.plant_id and mix.month = long.month
)

select
    *,
    not (low_coverage or baseline_differs or product_mix_differs) as comparable,
    concat_ws('; ',
        case when low_coverage then 'coverage ' || cast(round(coverage * 100) as integer) || ' % below ' || cast(round({{ var('benchmark_min_coverage') }} * 100) as integer) || ' %' end,
        case when baseline_differs then 'baseline ' || baseline_start || '..' || baseline_end || ' differs from the common baseline' end,
        case when product_mix_differs then 'product family ' || mix_family || ' ' || cast(round(mix_family_share * 100) as integer) || ' % of units vs median ' || cast(round(median_mix_family_share * 100) as integer) || ' %' end
    ) as not_comparable_reason,
    rank() over (partition by month, kpi order by value desc) as rank_desc
from flagged
