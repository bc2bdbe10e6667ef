-- For the central data team: did every raw record of every export file end in the lake or in
-- quarantine? One row per plant, production day, stream and file.
select
    plant_id,
    production_date,
    stream,
    source_file,
    raw_records,
    accepted_records,
    quarantined_records,
    case when raw_records > 0 then quarantined_records / raw_records end as quarantined_share,
    raw_records = accepted_records + quarantined_records as reconciled
from {{ ref('stg_ingest__reconciliation') }}
