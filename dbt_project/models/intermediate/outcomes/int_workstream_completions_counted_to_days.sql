-- One row per workstream and local day of the window ending with the as_of day (grain:
-- workstream_id, completed_on): how many of the workstream's tasks were completed that day, zero
-- days included, since a day without a completion is part of the pace too. Each completion counts
-- on the local day of its own team's time zone, like the workstream's weekly flow. The window is
-- var `forecast_window_days`, 90 by default like the aging bands: recent enough to follow a change
-- in how the teams work, long enough to hold a few completions for most workstreams. Every
-- workstream gets the same days, so the forecast can replay one calendar day for all at once.
{%- set window_days = var('forecast_window_days') | int %}
{%- if window_days < 1 %}
    {{ exceptions.raise_compiler_error(
        "var 'forecast_window_days' must be a whole number of days >= 1, got: "
        ~ var('forecast_window_days')) }}
{%- endif %}
with

workstreams as (

    select * from {{ ref('stg_business__workstreams') }}

),

task_workstreams as (

    select * from {{ ref('int_tasks_joined_to_workstreams') }}

),

task_milestones as (

    select * from {{ ref('int_status_intervals_aggregated_to_tasks') }}

),

window_bounds as (

    select
        cast({{ dbt.dateadd('day', 1 - window_days, as_of_date()) }} as date) as first_day,
        {{ as_of_date() }} as last_day

),

window_days as (

    {{ calendar_days('window_bounds', 'first_day', 'last_day') }}

),

completions as (

    select
        task_workstreams.workstream_id,
        {{ local_date('task_milestones.completed_at', 'task_milestones.time_zone') }}
            as completed_on

    from task_milestones

    inner join task_workstreams
        on task_milestones.task_key = task_workstreams.task_key

    where
        task_workstreams.workstream_id is not null
        and task_milestones.completed_at is not null

),

daily_completions as (

    select
        completions.workstream_id,
        completions.completed_on,
        count(*) as completed_tasks

    from completions

    cross join window_bounds

    where completions.completed_on between window_bounds.first_day and window_bounds.last_day

    group by completions.workstream_id, completions.completed_on

),

final as (

    select
        -- ids
        workstreams.workstream_id,

        -- day
        window_days.calendar_date as completed_on,

        -- measures
        cast(coalesce(daily_completions.completed_tasks, 0) as bigint) as completed_tasks

    from workstreams

    cross join window_days

    left join daily_completions
        on
            workstreams.workstream_id = daily_completions.workstream_id
            and window_days.calendar_date = daily_completions.completed_on

)

select * from final
