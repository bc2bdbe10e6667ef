{{ config(materialized='table', schema='marts') }}
-- One row per day: the time spine the dbt semantic layer (MetricFlow) joins metrics onto.
select cast(day as date) as date_day
from range(date '2020-01-01', date '2036-01-01', interval 1 day) as t(day)
