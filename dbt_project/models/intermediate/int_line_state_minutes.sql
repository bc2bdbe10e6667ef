{{ config(materialized='table') }}
-- Machine state of every line on the 1-minute grid (naive UTC minute starts) from the historian,
-- for plants without MES or alongside it: running, idle or down, from whichever state source the
-- line's tags provide (docs/contracts.md, signal forms):
--   machine_running  flag: value >= 0.5 running, else idle;
--   machine_state    enumerated state: plant.yaml machine_states maps each numeric code, or each
--                    text state as written (status_text of a reading without a number: MTConnect
--                    execution ACTIVE, a PI digital state, UNAVAILABLE), to running / idle / down;
--                    a value the map lacks gives no state (no minute), never a guess, and ends the
--                    state held before it (a bad reading of a state tag is "not observed");
--   running_above    any continuous tag with a threshold in the tag map (current, power, load):
--                    value > threshold running, else idle.
-- A reading holds from its timestamp until the next reading of its tag (step), for at most
-- var state_hold_max_min (default 1440 min: an event-driven state can hold for hours, but not
-- across a dead collector for days). A minute [t, t + 1 min) takes the state held at t.
-- Several sources on one line: down wins, then running, then idle (a line is running when any of
-- its machines runs, and down when one is down).
--
-- Working set: minutes of the days [min_date - 1, max_date] (readings from min_date - 2 on).
with plants as (
    select plant_id, timezone, machine_states from {{ ref('stg_registry__plants') }}
),

codes as (
    select plant_id, entry.code as code, entry.text as text, entry.state as state
    from (select plant_id, unnest(machine_states) as entry from plants)
),

tag_map as (
    select tag_map.*, signals.kind as signal_kind
    from {{ ref('stg_registry__tag_map') }} as tag_map
    inner join {{ ref('canonical_signals') }} as signals
        on signals.signal = tag_map.signal
    where tag_map.signal in ('machine_running', 'machine_state')
        or (tag_map.running_above is not null and signals.kind = 'continuous')
),

-- Read straight from staging with one more day before the window than int_signal_readings: the
-- state held at 00:00 of day min_date - 1 may come from a reading of the day before it.
readings as (
    select
        readings.plant_id,
        tag_map.line_id,
        readings.source_tag,
        tag_map.signal,
        tag_map.running_above,
        readings.ts_utc,
        readings.value * tag_map.scale + tag_map.unit_offset as canonical_value,
        readings.status_text
    from {{ ref('stg_historian__readings') }} as readings
    inner join tag_map
        on tag_map.plant_id = readings.plant_id
        and tag_map.source_tag = readings.source_tag
    where {{ in_day_window('readings.production_date', 2, 1) }}
        and (
            (readings.quality in ('good', 'uncertain') and readings.value is not null)
            -- a state tag's reading without a number (a text state, any quality) is looked up by its text
            or (tag_map.signal = 'machine_state' and readings.value is null)
        )
),

sources as (
    select
        readings.plant_id,
        readings.line_id,
        readings.source_tag,
        readings.ts_utc,
        case
            when readings.signal = 'machine_running' then
                case when readings.canonical_value >= 0.5 then 'running' else 'idle' end
            when readings.signal = 'machine_state' then codes.state
            when readings.canonical_value > readings.running_above then 'running'
            else 'idle'
        end as state,
        lead(readings.ts_utc) over (
            partition by readings.plant_id, readings.source_tag order by readings.ts_utc
        ) as next_ts_utc
    from readings
    left join codes
        on codes.plant_id = readings.plant_id
        and (
            codes.code = readings.canonical_value
            or (readings.canonical_value is null and codes.text = readings.status_text)
        )
),

held as (
    select
        plant_id,
        line_id,
        source_tag,
        state,
        -- the first minute start at or after the reading
        date_trunc('minute', ts_utc)
            + case when ts_utc > date_trunc('minute', ts_utc) then interval 1 minute else interval 0 minute end
            as first_minute,
        least(
            coalesce(next_ts_utc, ts_utc),
            ts_utc + to_minutes(cast({{ var('state_hold_max_min', 1440) }} as bigint))
        ) as hold_end_utc
    from sources
    where state is not null
),

tag_minutes as (
    select plant_id, line_id, source_tag, state, minute_utc
    from (
        select
            plant_id, line_id, source_tag, state, hold_end_utc,
            unnest(generate_series(first_minute, hold_end_utc, interval 1 minute)) as minute_utc
        from held
        where hold_end_utc > first_minute
    ) as exploded
    where minute_utc < hold_end_utc
),

line_minutes as (
    select
        plant_id,
        line_id,
        minute_utc,
        case
            when bool_or(state = 'down') then 'down'
            when bool_or(state = 'running') then 'running'
            else 'idle'
        end as state
    from tag_minutes
    group by plant_id, line_id, minute_utc
),

placed as (
    select
        line_minutes.plant_id,
        line_minutes.line_id,
        line_minutes.minute_utc,
        {{ local_date('line_minutes.minute_utc', 'plants.timezone') }} as production_date,
        line_minutes.state
    from line_minutes
    inner join plants
        on plants.plant_id = line_minutes.plant_id
)

select *
from placed
where {{ in_rebuild_window('production_date') }}
