-- canonical value = source value * scale + unit_offset (the registry's "offset", renamed because
-- OFFSET is an SQL keyword). rollover is in the tag's source unit.
select
    cast(plant_id as varchar) as plant_id,
    cast(source_tag as varchar) as source_tag,
    cast(signal as varchar) as signal,
    cast(line_id as varchar) as line_id,
    cast(asset_id as varchar) as asset_id,
    cast(source_unit as varchar) as source_unit,
    cast(canonical_unit as varchar) as canonical_unit,
    cast(scale as double) as scale,
    cast("offset" as double) as unit_offset,
    cast(rollover as double) as rollover,
    -- signal forms (docs/contracts.md): minutes an interval reading covers / the longest power gap
    -- integrated; the threshold above which a continuous tag says its line is running
    cast(interval_min as double) as interval_min,
    cast(running_above as double) as running_above
from {{ source('registry', 'tag_map') }}
