-- fct_daily_flow builds its counts from running sums of interval starts and ends. On the as_of
-- day they must equal a direct count: the tasks whose interval contains the instant the as_of
-- day ends in the team's time zone (entered before it, left at or after it, or still open).
-- reads several models: Dagster shows it as a check of fct_daily_flow
{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_flow'}}}) }}

with

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

),

intervals as (

    select * from {{ ref('fct_task_status_intervals') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

team_day_ends as (

    select
        team,
        {{ as_of_day_end_utc('time_zone') }} as as_of_day_end_at

    from teams

),

states_at_as_of_end as (

    select
        intervals.team,
        intervals.status_category,
        count(*) as task_count

    from intervals
    inner join team_day_ends
        on intervals.team = team_day_ends.team
    where
        intervals.entered_at < team_day_ends.as_of_day_end_at
        and (intervals.exited_at is null or intervals.exited_at >= team_day_ends.as_of_day_end_at)
    group by intervals.team, intervals.status_category

),

as_of_counts as (

    select
        team,
        status_category,
        task_count

    from daily_flow
    where flow_date = {{ as_of_date() }}

)

select
    coalesce(as_of_counts.team, states_at_as_of_end.team) as team,
    coalesce(as_of_counts.status_category, states_at_as_of_end.status_category) as status_category,
    as_of_counts.task_count as daily_flow_count,
    states_at_as_of_end.task_count as direct_count

from as_of_counts
full outer join states_at_as_of_end
    on
        as_of_counts.team = states_at_as_of_end.team
        and as_of_counts.status_category = states_at_as_of_end.status_category
where coalesce(as_of_counts.task_count, 0) <> coalesce(states_at_as_of_end.task_count, 0)
