{#- Every row satisfies `expression` (rows where it evaluates to NULL pass).
    As a column test the column name is put in front: `expression: ">= 0"`. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not ({% if column_name is not none %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}
