{#- Generic test: none of `columns` is null in any row of the model. It replaces one dbt
    `not_null` test per column by one query per model, each failing row naming its null columns
    in `null_columns`: a dbt test costs about 15 ms of a nightly build whatever it reads, and
    there were 380 of them (DECISIONS.md, "One not-null test per model"). -#}
{% test columns_are_not_null(model, columns) %}

select
    concat_ws(
        ', '
        {%- for column in columns %},
        case when {{ column }} is null then '{{ column }}' end
        {%- endfor %}
    ) as null_columns,
    *
from {{ model }}
where
    {%- for column in columns %}
    {{ 'or ' if not loop.first }}{{ column }} is null
    {%- endfor %}

{% endtest %}
