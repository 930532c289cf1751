-- Each completion is counted in exactly one week: per team, the weekly throughput adds up to
-- the tasks completed before the end of the as_of day (in the team's time zone).
-- reads several models: Dagster shows it as a check of mart_flow_weekly
{{ config(meta={'dagster': {'ref': {'name': 'mart_flow_weekly'}}}) }}

with

weekly as (

    select * from {{ ref('mart_flow_weekly') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

weekly_totals as (

    select
        team,
        sum(throughput) as throughput

    from weekly
    group by team

),

completed_totals as (

    select
        tasks.team,
        count(*) as throughput

    from tasks
    inner join teams
        on tasks.team = teams.team
    where
        tasks.is_completed
        and tasks.completed_at < {{ as_of_day_end_utc('teams.time_zone') }}
    group by tasks.team

)

select
    coalesce(weekly_totals.team, completed_totals.team) as team,
    weekly_totals.throughput as weekly_throughput,
    completed_totals.throughput as completed_tasks

from weekly_totals
full outer join completed_totals
    on weekly_totals.team = completed_totals.team
where coalesce(weekly_totals.throughput, 0) <> coalesce(completed_totals.throughput, 0)
