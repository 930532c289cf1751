{#- Array functions are named differently everywhere (DuckDB's lists, Spark's arrays with
    lambdas) and dbt has no cross-database macro for them: these are the project's. Arrays of
    records serve a few candidates matched against many rows: each row carries the short array of
    the candidates it could match, keeps those its condition holds for (`array_filtered`), and
    becomes one row per kept candidate (`exploded`). Joining them instead pairs every row with
    every candidate of its key (a residual filter over all pairs), and what is computed once per
    row before the explode would be computed again for every pair after it. -#}


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


{#- A record (struct) of named expressions, from a list of (name, expression) pairs. -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of', 'outcome_warehouse')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    {{ exceptions.raise_compiler_error(
        "struct_of has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__struct_of in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__struct_of(fields) -%}
    struct_pack({% for name, expression in fields %}{{ name }} := {{ expression }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct({% for name, expression in fields %}'{{ name }}', {{ expression }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- The elements of `array` for which `condition` holds, `item` naming the element in it (the
    condition may read the row's other columns). -#}
{% macro array_filtered(array, item, condition) -%}
    {{ return(adapter.dispatch('array_filtered', 'outcome_warehouse')(array, item, condition)) }}
{%- endmacro %}

{% macro default__array_filtered(array, item, condition) -%}
    {{ exceptions.raise_compiler_error(
        "array_filtered has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__array_filtered in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__array_filtered(array, item, condition) -%}
    list_filter({{ array }}, lambda {{ item }}: {{ condition }})
{%- endmacro %}

{% macro spark__array_filtered(array, item, condition) -%}
    filter({{ array }}, {{ item }} -> {{ condition }})
{%- endmacro %}


{#- Whether `condition` holds for some element of `array` (a task's label matching a seed's, a
    flag open at an instant); false for an empty array, null for a null one. -#}
{% macro array_any(array, item, condition) -%}
    {{ return(adapter.dispatch('array_any', 'outcome_warehouse')(array, item, condition)) }}
{%- endmacro %}

{% macro default__array_any(array, item, condition) -%}
    {{ exceptions.raise_compiler_error(
        "array_any has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__array_any in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__array_any(array, item, condition) -%}
    (len(list_filter({{ array }}, lambda {{ item }}: {{ condition }})) > 0)
{%- endmacro %}

{% macro spark__array_any(array, item, condition) -%}
    exists({{ array }}, {{ item }} -> {{ condition }})
{%- endmacro %}


{#- The number of elements of `array`. -#}
{% macro array_size(array) -%}
    {{ return(adapter.dispatch('array_size', 'outcome_warehouse')(array)) }}
{%- endmacro %}

{% macro default__array_size(array) -%}
    {{ exceptions.raise_compiler_error(
        "array_size has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__array_size in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__array_size(array) -%}
    len({{ array }})
{%- endmacro %}

{% macro spark__array_size(array) -%}
    size({{ array }})
{%- endmacro %}


{#- In a select list: one row per element of `array`, the element in the column it is aliased to
    (a row with an empty or null array gives none). -#}
{% macro exploded(array) -%}
    {{ return(adapter.dispatch('exploded', 'outcome_warehouse')(array)) }}
{%- endmacro %}

{% macro default__exploded(array) -%}
    {{ exceptions.raise_compiler_error(
        "exploded has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__exploded in macros/flow/arrays.sql") }}
{%- endmacro %}

{% macro duckdb__exploded(array) -%}
    unnest({{ array }})
{%- endmacro %}

{% macro spark__exploded(array) -%}
    explode({{ array }})
{%- endmacro %}
