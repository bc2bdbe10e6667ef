{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'motor_id', 'production_date'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Daily motor condition from vibration severity (ISO 20816-3, formerly ISO 10816-3).
--
-- vibration_mean_mms is the mean of the good / uncertain motor_vibration_velocity readings of the
-- plant-local day taken while the motor's line was RUNNING (int_line_minute_states: in an order
-- and in no downtime event, by the reading's minute): ISO 20816-3 evaluates a machine in steady
-- operation, and idle readings (near 0) would dilute the mean. The zone compares that daily mean
-- with the boundaries of the motor's machine class (seeds/machine_classes.csv):
--   A: mean < A/B   B: A/B <= mean < B/C   C: B/C <= mean < C/D   D: mean >= C/D
-- health: A, B -> green; C -> yellow; D -> red. NULL zone / health when the day has no vibration
-- reading while running (line stopped all day, bearing temperature only) or the class is unknown.
-- Temperature escalation: marts.fct_motor_health.
--
-- Vibration as acceleration (motor_vibration_acceleration, m/s^2) has no ISO 20816-3 zone table: it
-- never sets zone (the motor health template judges it by its trend against the motor's own
-- healthy baseline). acceleration_mean_ms2 is the mean of the day's readings taken while the line
-- ran; on a line with no state source in its configuration (no MES export, no machine_running /
-- machine_state / running_above tag: a test rig that runs whenever it records) every reading
-- counts, since nothing says when it idled. acceleration_max_ms2 is the day's highest reading.
with running_minutes as (
    select plant_id, line_id, minute_utc
    from {{ ref('int_line_minute_states') }}
    where is_apt
),

-- lines whose running state is known from configuration: every line of a plant with MES, and the
-- lines mapping a state tag or a continuous tag with a running threshold (int_line_state_minutes)
lines_with_state as (
    select lines.plant_id, lines.line_id
    from {{ ref('stg_registry__lines') }} as lines
    inner join {{ ref('stg_registry__plants') }} as plants
        on plants.plant_id = lines.plant_id
    where coalesce(plants.has_production_runs, false) or coalesce(plants.has_downtime_events, false)
    union
    select plant_id, line_id
    from {{ ref('stg_registry__tag_map') }}
    where signal in ('machine_running', 'machine_state') or running_above is not null
),

readings as (
    select
        readings.*,
        running_minutes.minute_utc is not null as while_running,
        lines_with_state.line_id is null as state_unknown
    from {{ ref('int_signal_readings') }} as readings
    left join running_minutes
        on running_minutes.plant_id = readings.plant_id
        and running_minutes.line_id = readings.line_id
        and running_minutes.minute_utc = date_trunc('minute', readings.ts_utc)
    left join lines_with_state
        on lines_with_state.plant_id = readings.plant_id
        and lines_with_state.line_id = readings.line_id
    where readings.signal in ('motor_vibration_velocity', 'motor_vibration_acceleration', 'motor_bearing_temperature')
        and {{ in_rebuild_window('readings.production_date') }}
),

motors as (
    select
        motors.plant_id,
        motors.motor_id,
        motors.line_id,
        motors.machine_class,
        classes.ab_boundary_mms,
        classes.bc_boundary_mms,
        classes.cd_boundary_mms
    from {{ ref('stg_registry__motors') }} as motors
    left join {{ ref('machine_classes') }} as classes
        on classes.machine_class = motors.machine_class
),

daily as (
    select
        plant_id,
        asset_id as motor_id,
        production_date,
        avg(canonical_value) filter (
            where signal = 'motor_vibration_velocity' and while_running
        ) as vibration_mean_mms,
        max(canonical_value) filter (where signal = 'motor_vibration_velocity') as vibration_max_mms,
        count(*) filter (where signal = 'motor_vibration_velocity') as vibration_readings,
        avg(canonical_value) filter (
            where signal = 'motor_vibration_acceleration' and (while_running or state_unknown)
        ) as acceleration_mean_ms2,
        max(canonical_value) filter (where signal = 'motor_vibration_acceleration') as acceleration_max_ms2,
        count(*) filter (where signal = 'motor_vibration_acceleration') as acceleration_readings,
        avg(canonical_value) filter (where signal = 'motor_bearing_temperature') as bearing_temp_mean_c
    from readings
    group by plant_id, asset_id, production_date
),

zoned as (
    select
        daily.plant_id,
        daily.motor_id,
        motors.line_id,
        daily.production_date,
        motors.machine_class,
        daily.vibration_mean_mms,
        daily.vibration_max_mms,
        daily.vibration_readings,
        daily.acceleration_mean_ms2,
        daily.acceleration_max_ms2,
        daily.acceleration_readings,
        daily.bearing_temp_mean_c,
        case
            when daily.vibration_mean_mms is null or motors.cd_boundary_mms is null then null
            when daily.vibration_mean_mms < motors.ab_boundary_mms then 'A'
            when daily.vibration_mean_mms < motors.bc_boundary_mms then 'B'
            when daily.vibration_mean_mms < motors.cd_boundary_mms then 'C'
            else 'D'
        end as zone
    from daily
    inner join motors
        on motors.plant_id = daily.plant_id
        and motors.motor_id = daily.motor_id
)

select
    plant_id,
    motor_id,
    line_id,
    production_date,
    machine_class,
    vibration_mean_mms,
    vibration_max_mms,
    vibration_readings,
    acceleration_mean_ms2,
    acceleration_max_ms2,
    acceleration_readings,
    bearing_temp_mean_c,
    zone,
    case zone
        when 'A' then 'green'
        when 'B' then 'green'
        when 'C' then 'yellow'
        when 'D' then 'red'
    end as health
from zoned
