{#- Whether the array column `array` (a task's labels) holds `value`. With ignore_case, both
    sides are compared lower-cased and trimmed, the way the seeds match statuses. -#}
{% macro array_contains_value(array, value, ignore_case=false) -%}
    {{ return(adapter.dispatch('array_contains_value')(array, value, ignore_case)) }}
{%- endmacro %}

{#- Array functions are named differently everywhere (DuckDB's lists, Spark's arrays with
    lambdas); there is no cross-database macro for them. -#}
{% macro default__array_contains_value(array, value, ignore_case=false) -%}
    {{ exceptions.raise_compiler_error(
        "array_contains_value has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__array_contains_value in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__array_contains_value(array, value, ignore_case=false) -%}
    {%- if ignore_case -%}
        list_contains(list_transform({{ array }}, lambda item: lower(trim(item))), lower(trim({{ value }})))
    {%- else -%}
        list_contains({{ array }}, {{ value }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__array_contains_value(array, value, ignore_case=false) -%}
    {%- if ignore_case -%}
        exists({{ array }}, item -> lower(trim(item)) = lower(trim({{ value }})))
    {%- else -%}
        array_contains({{ array }}, {{ value }})
    {%- endif -%}
{%- endmacro %}


{#- An array of strings from a Jinja list of Python strings (none gives a null array): how the unit
    tests' fixtures spell a task's labels. DuckDB writes list literals in brackets, Spark calls
    array(). -#}
{% macro string_array(values) -%}
    {{ return(adapter.dispatch('string_array', 'outcome_warehouse')(values)) }}
{%- endmacro %}

{% macro default__string_array(values) -%}
    {{ exceptions.raise_compiler_error(
        "string_array has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__string_array in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__string_array(values) -%}
    {%- if values is none -%}
        cast(null as string[])
    {%- else -%}
        cast([{% for value in values %}{{ "'" ~ value ~ "'" }}{{ ', ' if not loop.last }}{% endfor %}] as string[])
    {%- endif -%}
{%- endmacro %}

{% macro spark__string_array(values) -%}
    {%- if values is none -%}
        cast(null as array<string>)
    {%- else -%}
        cast(array({% for value in values %}{{ "'" ~ value ~ "'" }}{{ ', ' if not loop.last }}{% endfor %}) as array<string>)
    {%- endif -%}
{%- endmacro %}
