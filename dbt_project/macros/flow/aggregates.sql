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


{#- One of several continuous percentiles of `expression` over the group: the one at `index`
    (from 0) of `fractions`. Every call with the same expression and fractions is one aggregate,
    which keeps one copy of the group's values for all of them, where each percentile_continuous
    keeps its own: at a million tasks the six percentiles of the weekly marts' trailing twelve
    weeks held 1.5 GB more that way, outside DuckDB's memory limit. -#}
{% macro percentile_continuous_among(expression, fractions, index) -%}
    {{ return(adapter.dispatch('percentile_continuous_among')(expression, fractions, index)) }}
{%- endmacro %}

{% macro default__percentile_continuous_among(expression, fractions, index) -%}
    {{ exceptions.raise_compiler_error(
        "percentile_continuous_among has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__percentile_continuous_among in macros/flow/aggregates.sql") }}
{%- endmacro %}

{#- DuckDB lists count from 1, Spark arrays from 0. -#}
{% macro duckdb__percentile_continuous_among(expression, fractions, index) -%}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])[{{ index + 1 }}]
{%- endmacro %}

{% macro spark__percentile_continuous_among(expression, fractions, index) -%}
    percentile({{ expression }}, array({{ fractions | join(', ') }}))[{{ index }}]
{%- endmacro %}


{#- The six lead and cycle time percentiles of the flow marts (p50, p85, p95, continuous) over
    the group's completions, named `lead_time_p50_days{{ suffix }}` and so on: one aggregate per
    measure. Completions done without start have no cycle time and are left out of the
    cycle-time percentiles only. -#}
{% macro flow_time_percentiles(suffix='') -%}
    {%- set fractions = [0.5, 0.85, 0.95] -%}
    {%- for measure in ['lead_time', 'cycle_time'] -%}
        {%- for percentile in [50, 85, 95] %}
        {{ percentile_continuous_among(measure ~ '_days', fractions, loop.index0) }}
            as {{ measure }}_p{{ percentile }}_days{{ suffix }}
            {%- if not loop.last or measure == 'lead_time' %},{% endif %}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}
