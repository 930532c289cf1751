{#- The values of `measure` in the group joined by `delimiter` (a SQL string literal), in the order
    of `order_by` (an order-by list without the keywords, nulls placed explicitly where they can
    occur). dbt.listagg is used where it keeps the order; dbt-spark's drops it (collect_list has no
    order), while Spark 4 has the standard `listagg ... within group (order by ...)`. -#}
{% macro ordered_listagg(measure, delimiter, order_by) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'outcome_warehouse')(measure, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter, order_by) -%}
    {{ exceptions.raise_compiler_error(
        "ordered_listagg has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__ordered_listagg in macros/ordered_listagg.sql") }}
{%- endmacro %}

{% macro duckdb__ordered_listagg(measure, delimiter, order_by) -%}
    {{ dbt.listagg(measure, delimiter, 'order by ' ~ order_by) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter, order_by) -%}
    listagg({{ measure }}, {{ delimiter }}) within group (order by {{ order_by }})
{%- endmacro %}
