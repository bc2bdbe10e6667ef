{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'source_tag', 'interval_start_utc'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Every counter / totalizer interval int_counter_deltas counted 0 because it could not be physically
-- true (a backstep that is no plausible rollover or reset, an increase beyond the line's physical rate),
-- kept by day so the triage list (data_quality_incidents) still shows it after the working set moved on.
select
    plant_id,
    production_date,
    source_tag,
    signal,
    line_id,
    interval_start_utc,
    interval_end_utc,
    previous_source_value,
    source_value,
    rollover,
    allowance,
    delta_kind,
    flag_reason
from {{ ref('int_counter_deltas') }}
where flag_reason is not null
    and {{ in_rebuild_window('production_date') }}
