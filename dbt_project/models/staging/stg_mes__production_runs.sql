-- Production runs (orders) of the plant-days whose raw gate passed. production_date is the
-- plant-local day the run starts in (the partition of the export file).
with runs as (
    select * from {{ source('mes', 'production_runs') }}
),

passed_days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
)

select
    cast(runs.plant_id as varchar) as plant_id,
    cast(runs.production_date as date) as production_date,
    cast(runs.order_id as varchar) as order_id,
    cast(runs.line_id as varchar) as line_id,
    cast(runs.product_code as varchar) as product_code,
    cast(runs.start_utc as timestamp) as start_utc,
    cast(runs.end_utc as timestamp) as end_utc,
    cast(runs.good_qty as double) as good_qty,
    cast(runs.scrap_qty as double) as scrap_qty
from runs
inner join passed_days
    on passed_days.plant_id = runs.plant_id
    and passed_days.production_date = runs.production_date
