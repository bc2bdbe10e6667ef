select
    cast(plant_id as varchar) as plant_id,
    cast(line_id as varchar) as line_id,
    cast(name as varchar) as line_name,
    cast(isa95_path as varchar) as isa95_path,
    cast(rated_kw as double) as rated_kw,
    cast(max_units_per_hour as double) as max_units_per_hour
from {{ source('registry', 'lines') }}
