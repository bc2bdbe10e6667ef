select
    cast(plant_id as varchar) as plant_id,
    cast(product_code as varchar) as product_code,
    cast(family as varchar) as product_family,
    cast(mass_kg as double) as mass_kg,
    cast(ideal_rate_per_min as double) as ideal_rate_per_min
from {{ source('registry', 'products') }}
