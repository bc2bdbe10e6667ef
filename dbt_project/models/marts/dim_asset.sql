-- The ISA-95 equipment hierarchy of every plant, from the plant configs (registry): one row per
-- site (plant), line and motor, with its level, parent and path enterprise/site/area/line/unit.
with plants as (
    select * from {{ ref('stg_registry__plants') }}
),

lines as (
    select * from {{ ref('stg_registry__lines') }}
),

motors as (
    select
        motors.*,
        classes.ab_boundary_mms,
        classes.bc_boundary_mms,
        classes.cd_boundary_mms
    from {{ ref('stg_registry__motors') }} as motors
    left join {{ ref('machine_classes') }} as classes
        on classes.machine_class = motors.machine_class
)

select
    plant_id || '/' || plant_id as asset_key,
    plant_id,
    plant_id as asset_id,
    'site' as isa95_level,
    cast(null as varchar) as parent_asset_id,
    cast(null as varchar) as line_id,
    plant_name as asset_name,
    isa95_path,
    timezone,
    cast(null as varchar) as machine_class,
    cast(null as double) as ab_boundary_mms,
    cast(null as double) as bc_boundary_mms,
    cast(null as double) as cd_boundary_mms
from plants

union all

select
    lines.plant_id || '/' || lines.line_id,
    lines.plant_id,
    lines.line_id,
    'line',
    lines.plant_id,
    lines.line_id,
    lines.line_name,
    lines.isa95_path,
    plants.timezone,
    null,
    null,
    null,
    null
from lines
inner join plants on plants.plant_id = lines.plant_id

union all

select
    motors.plant_id || '/' || motors.motor_id,
    motors.plant_id,
    motors.motor_id,
    'unit',
    motors.line_id,
    motors.line_id,
    motors.motor_name,
    motors.isa95_path,
    plants.timezone,
    motors.machine_class,
    motors.ab_boundary_mms,
    motors.bc_boundary_mms,
    motors.cd_boundary_mms
from motors
inner join plants on plants.plant_id = motors.plant_id
