{#- Durations are decimal days (docs/metrics.md, "Conventions"): hours / 24, never whole-day
    counts, so that a three-hour review is 0.125 days and not 0 or 1. They are computed in whole
    microseconds (exact integers) and turned into days once, at the end: a sum of integers does not
    depend on the order in which parallel threads add it up, so a re-run gives byte-identical marts.
    -#}

{#- Microseconds since 1970-01-01 00:00 of a naive timestamp, as an integer. -#}
{% macro epoch_microseconds(timestamp) -%}
    {{ return(adapter.dispatch('epoch_microseconds')(timestamp)) }}
{%- endmacro %}

{#- No cross-database macro gives it: dbt.datediff('microsecond') is wrong on Spark (it goes
    through whole seconds). -#}
{% macro default__epoch_microseconds(timestamp) -%}
    {{ exceptions.raise_compiler_error(
        "epoch_microseconds has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__epoch_microseconds in macros/flow/durations.sql") }}
{%- endmacro %}

{% macro duckdb__epoch_microseconds(timestamp) -%}
    epoch_us({{ timestamp }})
{%- endmacro %}

{#- unix_micros reads the timestamp in UTC, whatever the session's time zone. -#}
{% macro spark__epoch_microseconds(timestamp) -%}
    unix_micros({{ timestamp }})
{%- endmacro %}


{#- Microseconds from `start_timestamp` to `end_timestamp`; null when either is null. -#}
{% macro duration_microseconds(start_timestamp, end_timestamp) -%}
    ({{ epoch_microseconds(end_timestamp) }} - {{ epoch_microseconds(start_timestamp) }})
{%- endmacro %}


{#- A number of microseconds (an integer expression, or a sum of them) as decimal days, a double
    on every engine: divided by a decimal literal, Spark would give a decimal(34,13). -#}
{% macro microseconds_to_days(microseconds) -%}
    (cast({{ microseconds }} as {{ type_double() }}) / 86400000000)
{%- endmacro %}


{#- Days from `start_timestamp` to `end_timestamp` as a decimal; null when either is null. -#}
{% macro duration_days(start_timestamp, end_timestamp) -%}
    {{ microseconds_to_days(duration_microseconds(start_timestamp, end_timestamp)) }}
{%- endmacro %}


{#- Decimal days that were computed from whole microseconds, back to those microseconds: the
    round trip is exact (a double holds 15 significant digits, centuries of microseconds), and
    integers can then be summed in any order with the same result. -#}
{% macro days_to_microseconds(days) -%}
    cast(round(({{ days }}) * 86400000000) as bigint)
{%- endmacro %}

{#- The part of an interval [start, end) that lies inside a window [window_start, window_end):
    an open interval (end is null) runs to the window's end. Emits the columns clipped_start and
    clipped_end; the caller keeps rows where clipped_end > clipped_start. -#}
{% macro clip_to_window(start_timestamp, end_timestamp, window_start, window_end) -%}
        case
            when {{ start_timestamp }} > {{ window_start }} then {{ start_timestamp }}
            else {{ window_start }}
        end as clipped_start,
        case
            when {{ end_timestamp }} is null or {{ end_timestamp }} > {{ window_end }}
                then {{ window_end }}
            else {{ end_timestamp }}
        end as clipped_end
{%- endmacro %}
