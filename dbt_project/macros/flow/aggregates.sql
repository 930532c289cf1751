{#- A continuous percentile (linear interpolation between the two nearest values; docs/metrics.md,
    "Conventions") of `expression` over the group, `fraction` one of `fractions`. The percentiles
    of one expression share one aggregate over the list of `fractions`, which keeps one copy of
    the group's values for all of them; an aggregate per percentile keeps a copy each, outside
    DuckDB's memory limit: at a million tasks the weekly marts' trailing twelve weeks held 1.5 GB
    more that way. -#}
{% macro percentile_continuous(expression, fraction, fractions=[0.5, 0.85, 0.95]) -%}
    {%- if fraction not in fractions -%}
        {{ exceptions.raise_compiler_error(
            "percentile_continuous: " ~ fraction ~ " is not one of the fractions " ~ fractions) }}
    {%- endif -%}
    {{ return(adapter.dispatch('percentile_continuous')(
        expression, fractions, fractions.index(fraction)
    )) }}
{%- endmacro %}

{% macro default__percentile_continuous(expression, fractions, index) -%}
    {{ exceptions.raise_compiler_error(
        "percentile_continuous has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__percentile_continuous in macros/flow/aggregates.sql") }}
{%- endmacro %}

{#- Engines name the interpolating percentile differently: DuckDB quantile_cont, Spark percentile
    (both exact, not approximate). DuckDB lists count from 1, Spark arrays from 0. -#}
{% macro duckdb__percentile_continuous(expression, fractions, index) -%}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])[{{ index + 1 }}]
{%- endmacro %}

{% macro spark__percentile_continuous(expression, fractions, index) -%}
    percentile({{ expression }}, array({{ fractions | join(', ') }}))[{{ index }}]
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
