{#- Every column of the select's source less `columns` (a list of names): how a model drops the
    rank it filtered on (see first-row selections in the staging models). DuckDB spells it
    `* exclude (...)`, Spark `* except (...)`; standard SQL has no such form. -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'outcome_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    {{ exceptions.raise_compiler_error(
        "star_except has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__star_except in macros/star_except.sql") }}
{%- endmacro %}

{% macro duckdb__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
