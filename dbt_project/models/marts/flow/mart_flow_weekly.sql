-- One row per ISO week and team (grain: week_start x team): throughput, arrivals, net flow,
-- lead and cycle time percentiles (of the week's completions, and of the trailing 12 weeks'),
-- average daily WIP, flow efficiency, flow distribution and blocked days. Weeks start on Monday
-- in the team's time zone and are half-open: a task completed at 00:00 on a Monday counts in the
-- week that Monday starts. Every team has a row for every week from its first task creation to
-- the as_of week, zero throughput included. mart_flow_weekly_by_workstream is the same per
-- workstream.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

tasks_in_local_time as (

    select
        tasks.*,
        {{ utc_to_local_timestamp('tasks.started_at', 'teams.time_zone') }} as started_at_local,
        {{ utc_to_local_timestamp('tasks.completed_at', 'teams.time_zone') }} as completed_at_local

    from tasks
    inner join teams
        on tasks.team = teams.team

),

-- local dates only move forward with time, so the first week is converted per team, not per task
team_first_weeks as (

    select
        tasks.team,
        cast(
            {{ dbt.date_trunc(
                'week', utc_to_local_timestamp('min(tasks.created_at)', 'teams.time_zone')
            ) }} as date
        ) as first_week_start

    from tasks
    inner join teams
        on tasks.team = teams.team
    group by tasks.team, teams.time_zone

),

daily_wip as (

    select
        team,
        flow_date,
        cast({{ dbt.date_trunc('week', 'flow_date') }} as date) as week_start,
        sum(case when is_wip_category then task_count else 0 end) as wip_count

    from daily_flow
    group by team, flow_date

),

-- the weeks come from the daily calendar, so they end with the as_of week
team_weeks as (

    select
        daily_wip.team,
        daily_wip.week_start,
        avg(daily_wip.wip_count) as avg_daily_wip

    from daily_wip
    inner join team_first_weeks
        on
            daily_wip.team = team_first_weeks.team
            and daily_wip.week_start >= team_first_weeks.first_week_start
    group by daily_wip.team, daily_wip.week_start

),

completed as (

    select
        team,
        cast({{ dbt.date_trunc('week', 'completed_at_local') }} as date) as week_start,
        flow_item_type,
        lead_time_days,
        cycle_time_days,
        active_time_days,
        blocked_time_days

    from tasks_in_local_time
    where is_completed

),

started as (

    select
        team,
        cast({{ dbt.date_trunc('week', 'started_at_local') }} as date) as week_start

    from tasks_in_local_time
    where started_at is not null

),

{{ weekly_flow_measures(key='team', weeks='team_weeks', completed='completed', started='started') }}

select * from final
