select
    cast(plant_id as varchar) as plant_id,
    cast(line_id as varchar) as line_id,
    cast(motor_id as varchar) as motor_id,
    cast(name as varchar) as motor_name,
    cast(machine_class as varchar) as machine_class,
    cast(isa95_path as varchar) as isa95_path
from {{ source('registry', 'motors') }}
