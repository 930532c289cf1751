{#- The first day of the month of a date, as a date. Engines differ in what `date_trunc` returns
    for a date (DuckDB gives a timestamp), and month keys are joined as dates everywhere. -#}
{% macro month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}
