{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['plant_id', 'production_date', 'line_id', 'product_code', 'characteristic'],
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_days() }}",
    )
}}
-- Quality deviation against spec limits per plant-local day, line, product and characteristic:
--   out_of_spec_share = out_of_spec_samples / samples            (value < LSL or value > USL)
--   mean_value, sd_value = sample mean and sample standard deviation (n - 1)
--   cp  = (USL - LSL) / (6 sd)
--   cpk = min(USL - mean, mean - LSL) / (3 sd)
-- Cp and Cpk are NULL below var('lab_cpk_min_samples') values (a standard deviation of a handful of
-- values says little) and when sd = 0. sd is the overall (long-term) sd of the day's values, so
-- strictly this is Ppk in ISO 22514 terms; the plants call it Cpk.
with samples as (
    select *
    from {{ ref('int_lab_samples_with_specs') }}
    where {{ in_rebuild_window('production_date') }}
),

-- two passes (mean first, then squared deviations): exact for exact inputs, stable for large means
with_mean as (
    select
        *,
        avg(value) over (partition by plant_id, production_date, line_id, product_code, characteristic) as mean_value
    from samples
),

grouped as (
    select
        plant_id,
        production_date,
        line_id,
        product_code,
        characteristic,
        any_value(unit) as unit,
        any_value(lsl) as lsl,
        any_value(target) as target,
        any_value(usl) as usl,
        count(*) as samples,
        count(*) filter (where is_out_of_spec) as out_of_spec_samples,
        any_value(mean_value) as mean_value,
        sqrt(sum((value - mean_value) * (value - mean_value)) / nullif(count(*) - 1, 0)) as sd_value
    from with_mean
    group by plant_id, production_date, line_id, product_code, characteristic
)

select
    cast(plant_id as varchar) as plant_id,
    cast(production_date as date) as production_date,
    cast(line_id as varchar) as line_id,
    cast(product_code as varchar) as product_code,
    cast(characteristic as varchar) as characteristic,
    cast(unit as varchar) as unit,
    cast(lsl as double) as lsl,
    cast(target as double) as target,
    cast(usl as double) as usl,
    cast(samples as bigint) as samples,
    cast(out_of_spec_samples as bigint) as out_of_spec_samples,
    cast(out_of_spec_samples as double) / samples as out_of_spec_share,
    cast(mean_value as double) as mean_value,
    cast(sd_value as double) as sd_value,
    cast(case when samples >= {{ var('lab_cpk_min_samples') }} and sd_value > 0
        then (usl - lsl) / (6 * sd_value) end as double) as cp,
    cast(case when samples >= {{ var('lab_cpk_min_samples') }} and sd_value > 0
        then least(usl - mean_value, mean_value - lsl) / (3 * sd_value) end as double) as cpk
from grouped
