{#- Time arithmetic for flow metrics. Timestamps in the warehouse are naive UTC (DECISIONS.md);
    days, weeks and "the end of the as_of day" belong to a team's local calendar. The conversions
    are engine-specific, so each goes through adapter.dispatch: another adapter adds its own
    `<adapter>__` implementation next to the duckdb one. -#}

{#- A naive UTC timestamp as the naive wall-clock time in `time_zone` (an IANA name or column). -#}
{% macro utc_to_local_timestamp(utc_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local_timestamp')(utc_timestamp, time_zone)) }}
{%- endmacro %}

{% macro default__utc_to_local_timestamp(utc_timestamp, time_zone) -%}
    {{ exceptions.raise_compiler_error(
        "utc_to_local_timestamp has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__utc_to_local_timestamp in macros/flow/time_zones.sql") }}
{%- endmacro %}

{#- On DuckDB, the zone's offset of the timestamp's UTC day is looked up in
    int_time_zone_offsets_by_utc_day and added: a lookup per distinct (zone, day) instead of the
    zone's rules applied to every row, several times faster on millions of rows. A day that model
    does not hold (an offset change that day, or a day outside its span) gives no offset, and the
    rules decide, so the result is always the rules' result. The offsets' columns have names
    of their own (offset_time_zone, not time_zone), so that a caller's unqualified column inside
    the subquery still names the caller's, and the subquery stays a plain correlated lookup that
    DuckDB turns into one join (wrapped in a derived table, it ran row by row, slower than the
    rules). -#}
{% macro duckdb__utc_to_local_timestamp(utc_timestamp, time_zone) -%}
    coalesce(
        {{ utc_timestamp }} + to_microseconds((
            select offsets.offset_us
            from {{ ref('int_time_zone_offsets_by_utc_day') }} as offsets
            where
                offsets.offset_time_zone = {{ time_zone }}
                and offsets.offset_utc_date = cast({{ utc_timestamp }} as date)
        )),
        {{ utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) }}
    )
{%- endmacro %}


{#- On Spark, from_utc_timestamp applies the zone's rules (the session zone is UTC, so the naive
    value is read as UTC): a correlated scalar subquery per row is not worth it there, where the
    optimizer plans it as a join of every row anyway. A UTC instant has exactly one local time,
    so days across a DST gap or overlap are the same as on DuckDB. -#}
{% macro spark__utc_to_local_timestamp(utc_timestamp, time_zone) -%}
    {{ spark__utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) }}
{%- endmacro %}


{#- The same conversion through the zone's rules, row by row: what the offsets model is computed
    with, and the answer on the days it does not hold. -#}
{% macro utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('utc_to_local_timestamp_by_rules')(utc_timestamp, time_zone)) }}
{%- endmacro %}

{#- `at time zone 'UTC'` reads the naive value as UTC (never the session zone), the second
    `at time zone` renders it as wall-clock time in the target zone. -#}
{% macro default__utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) -%}
    {{ exceptions.raise_compiler_error(
        "utc_to_local_timestamp_by_rules has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type()
        ~ "__utc_to_local_timestamp_by_rules in macros/flow/time_zones.sql") }}
{%- endmacro %}

{% macro duckdb__utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) -%}
    (({{ utc_timestamp }} at time zone 'UTC') at time zone {{ time_zone }})
{%- endmacro %}

{% macro spark__utc_to_local_timestamp_by_rules(utc_timestamp, time_zone) -%}
    from_utc_timestamp({{ utc_timestamp }}, {{ time_zone }})
{%- endmacro %}


{#- A naive wall-clock timestamp in `time_zone` as a naive UTC timestamp. -#}
{% macro local_to_utc_timestamp(local_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('local_to_utc_timestamp')(local_timestamp, time_zone)) }}
{%- endmacro %}

{% macro default__local_to_utc_timestamp(local_timestamp, time_zone) -%}
    {{ exceptions.raise_compiler_error(
        "local_to_utc_timestamp has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__local_to_utc_timestamp in macros/flow/time_zones.sql") }}
{%- endmacro %}

{% macro duckdb__local_to_utc_timestamp(local_timestamp, time_zone) -%}
    (({{ local_timestamp }} at time zone {{ time_zone }}) at time zone 'UTC')
{%- endmacro %}

{#- A wall-clock time inside a DST gap (02:30 on a spring-forward night) is read with the offset
    before the change, and one inside an overlap with the earlier (summer) offset, as DuckDB's
    `at time zone` does. -#}
{% macro spark__local_to_utc_timestamp(local_timestamp, time_zone) -%}
    to_utc_timestamp({{ local_timestamp }}, {{ time_zone }})
{%- endmacro %}


{#- The local calendar date of a naive UTC timestamp in `time_zone`. -#}
{% macro local_date(utc_timestamp, time_zone) -%}
    cast({{ utc_to_local_timestamp(utc_timestamp, time_zone) }} as date)
{%- endmacro %}


{#- The instant (naive UTC) at which the as_of day ends in `time_zone`: local midnight after it.
    Open intervals and open tasks are measured up to this instant. -#}
{% macro as_of_day_end_utc(time_zone) -%}
    {{ local_to_utc_timestamp(
        'cast(' ~ dbt.dateadd('day', 1, as_of_date()) ~ ' as timestamp)', time_zone) }}
{%- endmacro %}
