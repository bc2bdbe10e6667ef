-- Gate results (Great Expectations), one row per check of a plant-day and layer.
select
    cast(plant_id as varchar) as plant_id,
    cast(production_date as date) as production_date,
    cast(layer as varchar) as layer,
    cast(passed as boolean) as passed,
    cast(checked_at as timestamp) as checked_at,
    cast(failed_expectations as varchar) as failed_expectations,
    cast(thresholds as varchar) as thresholds,
    cast(plant_overrides as varchar) as plant_overrides
from {{ source('quality', 'gate_results') }}
