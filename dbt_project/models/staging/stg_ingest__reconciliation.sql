-- Per-file record counts of the ingest runs, one row per plant-day, stream and export file.
select
    cast(plant_id as varchar) as plant_id,
    cast(production_date as date) as production_date,
    regexp_extract(cast(filename as varchar), '([^/\\]+)\.parquet$', 1) as stream,
    cast(source_file as varchar) as source_file,
    cast(raw_records as bigint) as raw_records,
    cast(accepted_records as bigint) as accepted_records,
    cast(quarantined_records as bigint) as quarantined_records
from {{ source('ingest', 'reconciliation') }}
