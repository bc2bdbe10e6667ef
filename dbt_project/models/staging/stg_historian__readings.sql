-- Accepted historian readings of the plant-days whose raw gate passed; nothing else of the lake
-- reaches the marts. Partition pruning happens downstream: filters on production_date are pushed
-- through this view into read_parquet's hive partitions.
with readings as (
    select * from {{ source('historian', 'raw_readings') }}
),

passed_days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
)

select
    cast(readings.plant_id as varchar) as plant_id,
    cast(readings.production_date as date) as production_date,
    cast(readings.tag as varchar) as source_tag,
    cast(readings.ts_utc as timestamp) as ts_utc,
    cast(readings.value as double) as value,
    cast(readings.quality as varchar) as quality,
    cast(readings.status_text as varchar) as status_text,
    cast(readings.source_file as varchar) as source_file,
    cast(readings.source_line as bigint) as source_line
from readings
inner join passed_days
    on passed_days.plant_id = readings.plant_id
    and passed_days.production_date = readings.production_date
