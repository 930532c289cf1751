{#- A continuous percentile (linear interpolation between the two nearest values, SPEC §5) of
    `expression` over the group, `fraction` between 0 and 1. -#}
{% macro percentile_continuous(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_continuous')(expression, fraction)) }}
{%- endmacro %}

{#- The SQL standard ordered-set aggregate (Postgres, Snowflake, Redshift, SQL Server). -#}
{% macro default__percentile_continuous(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_continuous(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}
