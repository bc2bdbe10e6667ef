{#- Plant-days whose ingest gates (raw, canonical) passed in their most recent check (a later re-check
    overrides an earlier one). dbt reads only these partitions of the lake (docs/contracts.md). -#}
{% macro passed_raw_plant_days(gate_results) -%}
    -- Every ingest-layer gate of the plant-day (raw, canonical) must pass; the latest result of each
    -- layer counts, and a plant-day without its raw gate result is not used.
    select plant_id, production_date
    from (
        select plant_id, production_date, layer,
               coalesce(arg_max(passed, checked_at), bool_and(passed)) as passed
        from {{ gate_results }}
        where layer in ('raw', 'canonical')
        group by plant_id, production_date, layer
    )
    group by plant_id, production_date
    having bool_and(passed) and bool_or(layer = 'raw')
{%- endmacro %}


{#- Naive UTC timestamp -> plant-local calendar date (DST-aware, via ICU). -#}
{% macro local_date(ts_utc, timezone) -%}
    cast(timezone({{ timezone }}, timezone('UTC', {{ ts_utc }})) as date)
{%- endmacro %}
