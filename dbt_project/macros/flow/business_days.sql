{#- Business days (docs/metrics.md, "Conventions") are measured on a team's local calendar with
    weekends and the team's holidays (the `holidays` seed) removed: only the hours of business days
    count, each business day weighing 1. The duration between two instants is the difference of
    their positions on that calendar, so it never needs one row per task per day:

        position(t) = business days before t's local date, in microseconds
                      + (the microseconds elapsed in t's local day, if it is a business day)

    Positions are integers (see durations.sql), so sums of their differences are exact.
    `calendar` is the alias of a joined `int_team_days_joined_to_holidays` row for the team and
    the local date of `local_timestamp`. -#}
{% macro business_microseconds_position(local_timestamp, calendar) -%}
    (
        {{ calendar }}.business_days_before * 86400000000
        + case
            when {{ calendar }}.is_business_day
                then {{ duration_microseconds(
                    'cast(' ~ calendar ~ '.calendar_date as timestamp)', local_timestamp) }}
            else 0
        end
    )
{%- endmacro %}


{#- ISO day of the week of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(date) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date) -%}
    {{ exceptions.raise_compiler_error(
        "iso_day_of_week has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__iso_day_of_week in macros/flow/business_days.sql") }}
{%- endmacro %}

{#- DuckDB has isodow; Spark's weekday() counts from 0 = Monday. -#}
{% macro duckdb__iso_day_of_week(date) -%}
    isodow({{ date }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date) -%}
    (weekday({{ date }}) + 1)
{%- endmacro %}


{#- A select of every date from `first_day` to `last_day` (columns of the one-row relation
    `bounds`), as `calendar_date`. Generated from a fixed series of 16384 days (44 years): the
    test assert_daily_flow_reaches_as_of fails if a history ever outgrows it. No rows when the
    bounds are null (an empty warehouse). -#}
{% macro calendar_days(bounds, first_day, last_day) -%}
    select
        cast({{ dbt.dateadd('day', 'series.generated_number - 1', bounds ~ '.' ~ first_day) }} as date)
            as calendar_date

    from ({{ dbt.generate_series(16384) }}) as series
    cross join {{ bounds }}
    where
        series.generated_number - 1
        <= {{ dbt.datediff(bounds ~ '.' ~ first_day, bounds ~ '.' ~ last_day, 'day') }}
{%- endmacro %}
