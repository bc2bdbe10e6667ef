{#- Within each `partition_by` group, no two [start, end) intervals overlap. -#}
{% test no_overlapping_intervals(model, partition_by, start_column, end_column) %}
    {%- set keys = partition_by | join(', ') %}
    with ordered as (
        select
            {{ keys }},
            {{ start_column }} as interval_start,
            {{ end_column }} as interval_end,
            max({{ end_column }}) over (
                partition by {{ keys }}
                order by {{ start_column }}, {{ end_column }}
                rows between unbounded preceding and 1 preceding
            ) as latest_earlier_end
        from {{ model }}
    )
    select *
    from ordered
    where latest_earlier_end > interval_start
{% endtest %}
