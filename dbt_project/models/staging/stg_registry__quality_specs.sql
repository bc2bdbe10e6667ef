select
    cast(plant_id as varchar) as plant_id,
    cast(product_code as varchar) as product_code,
    cast(characteristic as varchar) as characteristic,
    cast(unit as varchar) as unit,
    cast(lsl as double) as lsl,
    cast(target as double) as target,
    cast(usl as double) as usl
from {{ source('registry', 'quality_specs') }}
