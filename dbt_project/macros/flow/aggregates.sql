{#- A continuous percentile (linear interpolation between the two nearest values; docs/metrics.md,
    "Conventions") of `expression` over the group, `fraction` between 0 and 1. -#}
{% macro percentile_continuous(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_continuous')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_continuous(expression, fraction) -%}
    {{ exceptions.raise_compiler_error(
        "percentile_continuous has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__percentile_continuous in macros/flow/aggregates.sql") }}
{%- endmacro %}

{#- Engines name the interpolating percentile differently: DuckDB quantile_cont, Spark percentile
    (both exact, not approximate). -#}
{% macro duckdb__percentile_continuous(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_continuous(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}


{#- The six lead and cycle time percentiles of the flow marts (p50, p85, p95, continuous) over
    the group's completions, named `lead_time_p50_days{{ suffix }}` and so on. Completions done
    without start have no cycle time and are left out of the cycle-time percentiles only. -#}
{% macro flow_time_percentiles(suffix='') -%}
    {%- for measure in ['lead_time', 'cycle_time'] -%}
        {%- for percentile in [50, 85, 95] %}
        {{ percentile_continuous(measure ~ '_days', percentile / 100) }}
            as {{ measure }}_p{{ percentile }}_days{{ suffix }}
            {%- if not loop.last or measure == 'lead_time' %},{% endif %}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}
