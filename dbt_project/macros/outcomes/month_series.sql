{#- A set-returning select-list expression: one row per first day of a month, from `first_month`
    through `last_month` (both first days of months, inclusive). The per-row bounds come from the
    data (an outcome's baseline month), so dbt's compile-time `date_spine` cannot be used.
    Generating a series is engine-specific; an adapter without an implementation fails at compile
    time with the name of the macro to add, never with a silently empty spine. -#}
{% macro month_series(first_month, last_month) -%}
    {{ return(adapter.dispatch('month_series', 'outcome_warehouse')(first_month, last_month)) }}
{%- endmacro %}

{% macro default__month_series(first_month, last_month) -%}
    {{ exceptions.raise_compiler_error(
        "month_series has no implementation for adapter '" ~ adapter.type()
        ~ "': add a macro " ~ adapter.type() ~ "__month_series in macros/outcomes/month_series.sql"
    ) }}
{%- endmacro %}

{% macro duckdb__month_series(first_month, last_month) -%}
    cast(
        unnest(generate_series(
            cast({{ first_month }} as date),
            cast({{ last_month }} as date),
            interval 1 month
        ))
        as date
    )
{%- endmacro %}

{#- Spark generates arrays and explodes them: sequence() steps a date by an interval. -#}
{% macro spark__month_series(first_month, last_month) -%}
    explode(sequence(
        cast({{ first_month }} as date),
        cast({{ last_month }} as date),
        interval 1 month
    ))
{%- endmacro %}
