select
    cast(plant_id as varchar) as plant_id,
    cast(name as varchar) as plant_name,
    cast(timezone as varchar) as timezone,
    cast(isa95_path as varchar) as isa95_path,
    cast(baseline_start as date) as baseline_start,
    cast(baseline_end as date) as baseline_end,
    cast(energy_tolerance as double) as energy_tolerance,
    cast(has_production_runs as boolean) as has_production_runs,
    cast(has_downtime_events as boolean) as has_downtime_events,
    cast(has_lab_results as boolean) as has_lab_results,
    machine_states
from {{ source('registry', 'plants') }}
