-- Lab results (one row per sample and characteristic) of the plant-days whose raw gate passed.
-- production_date is the plant-local day the sample was taken in (the partition of the export file);
-- value is already in the unit of the product's spec (ingest converts with pint).
with samples as (
    select * from {{ source('lab', 'lab_results') }}
),

passed_days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
)

select
    cast(samples.plant_id as varchar) as plant_id,
    cast(samples.production_date as date) as production_date,
    cast(samples.sample_id as varchar) as sample_id,
    cast(samples.order_id as varchar) as order_id,
    cast(samples.line_id as varchar) as line_id,
    cast(samples.product_code as varchar) as product_code,
    cast(samples.characteristic as varchar) as characteristic,
    cast(samples.sampled_at_utc as timestamp) as sampled_at_utc,
    cast(samples.value as double) as value,
    cast(samples.unit as varchar) as unit
from samples
inner join passed_days
    on passed_days.plant_id = samples.plant_id
    and passed_days.production_date = samples.production_date
