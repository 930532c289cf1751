{#- A double-precision floating-point type for ratios. `dbt.type_float()` is a single-precision
    FLOAT on DuckDB, which would round progress ratios to about seven digits. `double precision`
    is the SQL-standard name; an engine that lacks it adds an `<adapter>__type_double`. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'outcome_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}
