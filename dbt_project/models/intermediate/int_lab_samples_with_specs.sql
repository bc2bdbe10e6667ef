-- Each lab value with the spec limits of its product and characteristic, and whether it is out of
-- spec. A value exactly on a limit is in spec: out of spec = value < LSL or value > USL.
select
    samples.plant_id,
    samples.production_date,
    samples.sample_id,
    samples.order_id,
    samples.line_id,
    samples.product_code,
    samples.characteristic,
    samples.sampled_at_utc,
    samples.value,
    samples.unit,
    specs.lsl,
    specs.target,
    specs.usl,
    samples.value < specs.lsl or samples.value > specs.usl as is_out_of_spec
from {{ ref('stg_lab__results') }} as samples
inner join {{ ref('stg_registry__quality_specs') }} as specs
    on specs.plant_id = samples.plant_id
    and specs.product_code = samples.product_code
    and specs.characteristic = samples.characteristic
where {{ in_rebuild_window('samples.production_date') }}
