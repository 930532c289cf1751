-- One row per team and local calendar day (grain: team x calendar_date), from the day before
-- the first task creation to the day after the as_of date or the latest status change, with
-- whether the day is a business day for the team (not a weekend, not one of its holidays) and
-- the number of business days before it: the team's business-day calendar.
with

intervals as (

    select * from {{ ref('int_status_changes_windowed_to_intervals') }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

holidays as (

    select * from {{ ref('holidays') }}

),

teams as (

    select distinct
        team,
        time_zone

    from task_teams

),

-- local dates only move forward with time, so the bounds are converted per team, not per row
team_spans as (

    select
        task_teams.time_zone,
        min(intervals.entered_at) as first_entered_at,
        max(intervals.entered_at) as last_entered_at

    from intervals
    inner join task_teams
        on intervals.task_key = task_teams.task_key
    group by task_teams.time_zone

),

team_local_spans as (

    select
        {{ local_date('first_entered_at', 'time_zone') }} as first_entered_on,
        {{ local_date('last_entered_at', 'time_zone') }} as last_entered_on

    from team_spans

),

calendar_bounds as (

    select
        cast({{ dbt.dateadd('day', -1, 'min(first_entered_on)') }} as date) as first_day,
        cast(
            {{ dbt.dateadd('day', 1, 'greatest(max(last_entered_on), ' ~ as_of_date() ~ ')') }}
            as date
        ) as last_day

    from team_local_spans
    having count(*) > 0

),

calendar_days as (

    {{ calendar_days('calendar_bounds', 'first_day', 'last_day') }}

),

team_days as (

    select
        teams.team,
        calendar_days.calendar_date,
        {{ iso_day_of_week('calendar_days.calendar_date') }} >= 6 as is_weekend,
        holidays.name as holiday_name

    from teams
    cross join calendar_days
    left join holidays
        on
            teams.team = trim(holidays.team)
            and calendar_days.calendar_date = holidays.holiday_on

),

final as (

    select
        -- keys
        team,
        calendar_date,

        -- day type
        is_weekend,
        holiday_name,
        not is_weekend and holiday_name is null as is_business_day,

        -- position on the business calendar
        coalesce(
            sum(case when not is_weekend and holiday_name is null then 1 else 0 end) over (
                partition by team
                order by calendar_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as business_days_before

    from team_days

)

select * from final
