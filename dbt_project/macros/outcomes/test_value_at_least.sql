{#- A lower bound on a numeric column (nulls are left to `not_null`). Fails with the offending
    rows. -#}
{% test value_at_least(model, column_name, minimum) %}

select *
from {{ model }}
where {{ column_name }} < {{ minimum }}

{% endtest %}
