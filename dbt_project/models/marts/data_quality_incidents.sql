{{ config(materialized='table') }}
-- One row per failed expectation of a data-quality gate: the central team's triage list.
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
)

select
    plant_id,
    production_date,
    layer,
    failure ->> 'expectation' as expectation,
    coalesce(failure ->> 'column', '') as checked_column,
    'error' as severity,
    failure ->> 'observed' as observed,
    cast(failure -> 'threshold' as varchar) as threshold,
    cast(failure -> 'sample' as varchar) as sample_values,
    coalesce(plant_overrides, '{}') as plant_overrides,
    checked_at
from failures
