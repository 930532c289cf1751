{#- A double-precision floating-point type for ratios. `dbt.type_float()` is a single-precision
    FLOAT on DuckDB, which would round progress ratios to about seven digits. The SQL-standard
    `double precision` is rejected by Spark; both engines name the type `double`. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'outcome_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ exceptions.raise_compiler_error(
        "type_double has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__type_double in macros/type_double.sql") }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
