-- One row per team time zone and UTC calendar day on which the zone keeps one UTC offset from
-- the day's first microsecond to its last (grain: offset_time_zone x offset_utc_date), with that
-- offset in microseconds. utc_to_local_timestamp reads it: a timestamp on such a day becomes
-- local time by an addition, where the zone's rules applied row by row cost microseconds each
-- (14 s for the 5.6M status intervals of a million tasks). Days on which a zone changes its
-- offset (DST) are left out, and so are days outside the span, from the day before the first
-- task was created to two days after as_of: there the macro applies the rules, so the answer is
-- the same whether or not a day is here.
with

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

time_zones as (

    select distinct time_zone

    from task_teams

),

span as (

    select
        {{ dbt.dateadd('day', -1, 'cast(min(created_at) as date)') }} as first_day,
        {{ dbt.dateadd('day', 2, as_of_date()) }} as last_day

    from tasks

),

utc_days as (

    {{ calendar_days('span', 'first_day', 'last_day') }}

),

day_bounds as (

    select
        time_zones.time_zone,
        utc_days.calendar_date as utc_date,
        cast(utc_days.calendar_date as timestamp) as first_instant,
        {{ dbt.dateadd(
            'microsecond', -1, dbt.dateadd('day', 1, 'cast(utc_days.calendar_date as timestamp)')
        ) }} as last_instant

    from time_zones
    cross join utc_days

),

offsets as (

    select
        time_zone,
        utc_date,
        {{ duration_microseconds(
            'first_instant', utc_to_local_timestamp_by_rules('first_instant', 'time_zone')
        ) }} as offset_at_start_us,
        {{ duration_microseconds(
            'last_instant', utc_to_local_timestamp_by_rules('last_instant', 'time_zone')
        ) }} as offset_at_end_us

    from day_bounds

),

-- named apart from any caller's columns: utc_to_local_timestamp reads them in a correlated
-- subquery, where an unqualified `time_zone` of the caller must not resolve to this model's
final as (

    select
        time_zone as offset_time_zone,
        utc_date as offset_utc_date,
        offset_at_start_us as offset_us

    from offsets
    where offset_at_start_us = offset_at_end_us

)

select * from final
