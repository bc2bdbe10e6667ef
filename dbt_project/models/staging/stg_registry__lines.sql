select
    cast(plant_id as varchar) as plant_id,
    cast(line_id as varchar) as line_id,
    cast(name as varchar) as line_name,
    cast(isa95_path as varchar) as isa95_path
from {{ source('registry', 'lines') }}
