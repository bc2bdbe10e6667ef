{{ config(materialized='table') }}
-- Machine states of every line on a regular 1-minute grid (naive UTC minute starts). For a plant
-- without MES they come from the historian's state tags (state_signals at the end, time_source
-- 'state_signal'); otherwise (time_source 'mes') from MES:
-- the production runs (orders) with their time windows and the downtime events.
--
--   state = planned_downtime    a planned event covers the minute (it wins over everything)
--         = unplanned_downtime  an unplanned event covers the minute
--         = running             inside an order and no event
--         = idle                no order, no event (changeover gap)  -- not on the grid, see below
-- Only minutes covered by an order or an event are on the grid: idle minutes carry no KPI input.
-- A minute [t, t + 1 min) is covered by an interval [start, end) when start <= t < end after both
-- are floored to the minute. production_date is the plant-local date of the minute.
--
-- ISO 22400-2 time model per minute: in_pbt (planned busy time) = in an order or in unplanned
-- downtime, and not in planned downtime; is_apt (actual production time) = running; is_adet
-- (actual unplanned downtime) = unplanned_downtime; in_order (order execution time, AOET).
--
-- Working set: runs / events of the start days [min_date - 2, max_date + 1] (both last less than a
-- day), minutes of the days [min_date - 1, max_date].
with plants as (
    select plant_id, timezone, has_production_runs, has_downtime_events from {{ ref('stg_registry__plants') }}
),

runs as (
    select
        runs.plant_id,
        runs.line_id,
        runs.order_id,
        runs.product_code,
        products.ideal_rate_per_min,
        date_trunc('minute', runs.start_utc) as start_minute,
        date_trunc('minute', runs.end_utc) as end_minute
    from {{ ref('stg_mes__production_runs') }} as runs
    left join {{ ref('stg_registry__products') }} as products
        on products.plant_id = runs.plant_id
        and products.product_code = runs.product_code
    where {{ in_day_window('runs.production_date', 2, 1) }}
),

events as (
    select
        plant_id,
        line_id,
        category,
        date_trunc('minute', start_utc) as start_minute,
        date_trunc('minute', end_utc) as end_minute
    from {{ ref('stg_mes__downtime_events') }}
    where {{ in_day_window('production_date', 2, 1) }}
),

run_minutes as (
    select
        plant_id,
        line_id,
        unnest(generate_series(start_minute, end_minute - interval 1 minute, interval 1 minute)) as minute_utc,
        order_id,
        product_code,
        ideal_rate_per_min,
        start_minute
    from runs
    where end_minute > start_minute
),

-- overlapping runs on a line: the one that started last wins (as in int_line_deltas)
run_grid as (
    select *
    from run_minutes
    qualify row_number() over (
        partition by plant_id, line_id, minute_utc order by start_minute desc, order_id
    ) = 1
),

event_grid as (
    select
        plant_id,
        line_id,
        minute_utc,
        bool_or(category = 'planned') as planned,
        bool_or(category = 'unplanned') as unplanned
    from (
        select
            plant_id,
            line_id,
            category,
            unnest(generate_series(start_minute, end_minute - interval 1 minute, interval 1 minute)) as minute_utc
        from events
        where end_minute > start_minute
    ) as exploded
    group by plant_id, line_id, minute_utc
),

grid as (
    select
        coalesce(run_grid.plant_id, event_grid.plant_id) as plant_id,
        coalesce(run_grid.line_id, event_grid.line_id) as line_id,
        coalesce(run_grid.minute_utc, event_grid.minute_utc) as minute_utc,
        run_grid.order_id,
        run_grid.product_code,
        run_grid.ideal_rate_per_min,
        run_grid.order_id is not null as in_order,
        case
            when coalesce(event_grid.planned, false) then 'planned_downtime'
            when coalesce(event_grid.unplanned, false) then 'unplanned_downtime'
            else 'running'
        end as state
    from run_grid
    full outer join event_grid
        on event_grid.plant_id = run_grid.plant_id
        and event_grid.line_id = run_grid.line_id
        and event_grid.minute_utc = run_grid.minute_utc
),

placed as (
    select
        'mes' as time_source,
        grid.plant_id,
        grid.line_id,
        grid.minute_utc,
        {{ local_date('grid.minute_utc', 'plants.timezone') }} as production_date,
        grid.order_id,
        grid.product_code,
        grid.ideal_rate_per_min,
        grid.in_order,
        grid.state,
        grid.state <> 'planned_downtime' and (grid.in_order or grid.state = 'unplanned_downtime') as in_pbt,
        grid.state = 'running' as is_apt,
        grid.state = 'unplanned_downtime' as is_adet
    from grid
    inner join plants
        on plants.plant_id = grid.plant_id
),

-- Plants without MES (neither production_runs nor downtime_events configured): the machine state
-- from the historian (int_line_state_minutes). running is APT, down is ADET (unplanned: nothing
-- says it was planned), both are PBT; idle minutes are on the grid but not PBT. No orders.
state_signals as (
    select
        'state_signal' as time_source,
        minutes.plant_id,
        minutes.line_id,
        minutes.minute_utc,
        minutes.production_date,
        cast(null as varchar) as order_id,
        cast(null as varchar) as product_code,
        cast(null as double) as ideal_rate_per_min,
        false as in_order,
        case minutes.state when 'down' then 'unplanned_downtime' else minutes.state end as state,
        minutes.state in ('running', 'down') as in_pbt,
        minutes.state = 'running' as is_apt,
        minutes.state = 'down' as is_adet
    from {{ ref('int_line_state_minutes') }} as minutes
    inner join plants
        on plants.plant_id = minutes.plant_id
    where not coalesce(plants.has_production_runs, true)
        and not coalesce(plants.has_downtime_events, true)
)

select *
from placed
where {{ in_rebuild_window('production_date') }}

union all

select * from state_signals
