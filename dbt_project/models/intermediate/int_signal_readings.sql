-- Readings mapped through the plant's tag map onto canonical signals, converted to the canonical
-- unit: canonical_value = value * scale + unit_offset. Good and uncertain quality only.
--
-- Read window: partitions [min_date - 1, max_date + 2]. Counter deltas of the rebuilt days
-- [min_date - 1, max_date] need the first reading of the following day, and production runs that
-- start on max_date may run into the next day (int_counter_deltas keeps intervals starting up to
-- max_date + 1, which need readings up to max_date + 2).
with readings as (
    select *
    from {{ ref('stg_historian__readings') }}
    where {{ in_day_window('production_date', 1, 2) }}
        and quality in ('good', 'uncertain')
        and value is not null
),

tag_map as (
    select * from {{ ref('stg_registry__tag_map') }}
),

signals as (
    select signal, kind, canonical_unit from {{ ref('canonical_signals') }}
)

select
    readings.plant_id,
    readings.production_date,
    readings.ts_utc,
    readings.source_tag,
    tag_map.signal,
    signals.kind as signal_kind,
    tag_map.line_id,
    tag_map.asset_id,
    readings.value as source_value,
    tag_map.source_unit,
    readings.value * tag_map.scale + tag_map.unit_offset as canonical_value,
    signals.canonical_unit,
    tag_map.scale,
    tag_map.rollover,
    readings.quality
from readings
inner join tag_map
    on tag_map.plant_id = readings.plant_id
    and tag_map.source_tag = readings.source_tag
inner join signals
    on signals.signal = tag_map.signal
