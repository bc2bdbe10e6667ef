-- Downtime events of the plant-days whose raw gate passed. production_date is the plant-local day
-- the event starts in; category is already mapped to planned / unplanned by ingest.
with events as (
    select * from {{ source('mes', 'downtime_events') }}
),

passed_days as (
    {{ passed_raw_plant_days(ref('stg_quality__gate_results')) }}
)

select
    cast(events.plant_id as varchar) as plant_id,
    cast(events.production_date as date) as production_date,
    cast(events.line_id as varchar) as line_id,
    cast(events.start_utc as timestamp) as start_utc,
    cast(events.end_utc as timestamp) as end_utc,
    date_diff('second', cast(events.start_utc as timestamp), cast(events.end_utc as timestamp)) / 60.0
        as duration_min,
    cast(events.reason as varchar) as reason,
    cast(events.category as varchar) as category
from events
inner join passed_days
    on passed_days.plant_id = events.plant_id
    and passed_days.production_date = events.production_date
