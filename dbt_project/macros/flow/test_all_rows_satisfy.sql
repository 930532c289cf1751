{#- Generic test: every row of the model satisfies `expression` (a boolean SQL expression over its
    columns). Rows where it is false or null fail, so a null never passes silently. -#}
{% test all_rows_satisfy(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
