{#- The day-grain KPIs of the KPI catalog (seeds/kpi_catalog.csv): the rows whose `mart` is
    marts.kpi_daily, in catalog order. kpi_daily_wide takes its columns from here, so a KPI added to
    the catalog (and to kpi_daily.sql) gets its column without a third list.

    Read from the loaded seed when the model runs. The ref() comes first so dbt records the
    dependency at parse time (execute = false), when the list is empty. -#}
{% macro kpi_daily_kpis() -%}
    {%- set catalog = ref('kpi_catalog') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if load_relation(catalog) is none -%}
        {{ exceptions.raise_compiler_error(
            "kpi_daily_kpis: " ~ catalog ~ " is not in the warehouse; load it first (dbt seed)") }}
    {%- endif -%}
    {#- rowid: the seed's row order (a seed is dropped and reloaded on every dbt seed) -#}
    {%- set rows = run_query(
        "select kpi from " ~ catalog ~ " where split_part(mart, ' ', 1) = 'marts.kpi_daily' order by rowid") -%}
    {{ return(rows.columns[0].values() | list) }}
{%- endmacro %}
