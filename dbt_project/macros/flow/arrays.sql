{#- Whether the array column `array` (a task's labels) holds `value`. With ignore_case, both
    sides are compared lower-cased and trimmed, the way the seeds match statuses. -#}
{% macro array_contains_value(array, value, ignore_case=false) -%}
    {{ return(adapter.dispatch('array_contains_value')(array, value, ignore_case)) }}
{%- endmacro %}

{#- Spark, Databricks and Trino spell it this way; case-insensitive matching needs an engine's
    own array transform. -#}
{% macro default__array_contains_value(array, value, ignore_case=false) -%}
    {%- if ignore_case -%}
        {{ exceptions.raise_compiler_error(
            "array_contains_value(ignore_case=true) has no implementation for adapter '"
            ~ adapter.type() ~ "': add " ~ adapter.type()
            ~ "__array_contains_value in macros/flow/arrays.sql") }}
    {%- endif -%}
    array_contains({{ array }}, {{ value }})
{%- endmacro %}

{% macro duckdb__array_contains_value(array, value, ignore_case=false) -%}
    {%- if ignore_case -%}
        list_contains(list_transform({{ array }}, lambda item: lower(trim(item))), lower(trim({{ value }})))
    {%- else -%}
        list_contains({{ array }}, {{ value }})
    {%- endif -%}
{%- endmacro %}
