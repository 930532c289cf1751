-- Every team of fct_daily_flow has one row per category for each day from the first task
-- creation to the as_of date, with no day missing: the calendar was not cut short.
with

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

),

team_calendars as (

    select
        team,
        min(flow_date) as first_day,
        max(flow_date) as last_day,
        count(distinct flow_date) as day_count,
        count(*) as team_rows

    from daily_flow
    group by team

)

select *
from team_calendars
where
    last_day <> {{ as_of_date() }}
    or day_count <> {{ dbt.datediff('first_day', 'last_day', 'day') }} + 1
    or team_rows <> day_count * {{ flow_status_categories() | length }}
