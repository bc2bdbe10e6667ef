{{ config(materialized='table') }}
-- One row per failed expectation of a data-quality gate, and one per plant-day and counter tag with
-- intervals counted 0 as physically impossible (fct_counter_flags, layer counters): the central team's
-- triage list.
-- Rebuilt whole on every run: gate results are small and a re-check of an old day must show up.
with failed_gates as (
    select *
    from {{ ref('stg_quality__gate_results') }}
    where not passed
),

failures as (
    select
        plant_id,
        production_date,
        layer,
        checked_at,
        plant_overrides,
        unnest(cast(coalesce(failed_expectations, '[]') as json[])) as failure
    from failed_gates
),

counter_flags as (
    select
        plant_id,
        production_date,
        'counters' as layer,
        'counter_counts_up' as expectation,
        source_tag as checked_column,
        'warning' as severity,
        count(*) || ' interval(s) counted 0: ' || arg_min(flag_reason, interval_start_utc) as observed,
        '{"rollover": "plausible only near the declared rollover within the physical rate"}' as threshold,
        cast(to_json(list(flag_reason order by interval_start_utc)[1:5]) as varchar) as sample_values,
        '{}' as plant_overrides,
        cast(max(interval_end_utc) as timestamp) as checked_at
    from {{ ref('fct_counter_flags') }}
    group by plant_id, production_date, source_tag
)

select
    plant_id,
    production_date,
    layer,
    failure ->> 'expectation' as expectation,
    coalesce(failure ->> 'column', '') as checked_column,
    'error' as severity,
    -- a marts bound names KPI, value and bound in its reason
    coalesce(failure ->> 'reason', failure ->> 'observed') as observed,
    cast(failure -> 'threshold' as varchar) as threshold,
    cast(failure -> 'sample' as varchar) as sample_values,
    coalesce(plant_overrides, '{}') as plant_overrides,
    checked_at
from failures

union all

select * from counter_flags
