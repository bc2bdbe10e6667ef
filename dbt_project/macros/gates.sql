{#- Plant-days whose most recent `raw` gate result passed (a later re-check overrides an earlier one).
    dbt reads only these partitions of the lake (docs/contracts.md). -#}
{% macro passed_raw_plant_days(gate_results) -%}
    select plant_id, production_date
    from {{ gate_results }}
    where layer = 'raw'
    group by plant_id, production_date
    having coalesce(arg_max(passed, checked_at), bool_and(passed))
{%- endmacro %}


{#- Naive UTC timestamp -> plant-local calendar date (DST-aware, via ICU). -#}
{% macro local_date(ts_utc, timezone) -%}
    cast(timezone({{ timezone }}, timezone('UTC', {{ ts_utc }})) as date)
{%- endmacro %}
