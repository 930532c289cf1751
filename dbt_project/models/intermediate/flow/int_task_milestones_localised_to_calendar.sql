-- One row per task (grain: task_key): where its milestones fall on its team's local calendar, the
-- one placement of a task in a local day and a local month that every daily and monthly model
-- reads. A day is the date in the team's time zone of the naive UTC milestone; a month is the
-- first day of that date's month, so months are half-open: a task completed at 00:00 local time
-- on the first day of a month counts in that month only. A milestone the task has not reached
-- (or, for completed_at and cancelled_at, is no longer in) is null here too.
-- Incremental on DuckDB: a nightly build rebuilds only the tasks of int_tasks_to_rebuild (an open
-- task's milestones do not read the as_of date; macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}"
) }}

with

tasks as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}
    where {{ is_task_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}

),

teams as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

),

localised as (

    select
        tasks.task_key,
        tasks.team,
        teams.time_zone,
        {{ local_date('tasks.created_at', 'teams.time_zone') }} as created_on,
        {{ local_date('tasks.started_at', 'teams.time_zone') }} as started_on,
        {{ local_date('tasks.completed_at', 'teams.time_zone') }} as completed_on,
        {{ local_date('tasks.cancelled_at', 'teams.time_zone') }} as cancelled_on

    from tasks
    inner join teams
        on tasks.team = teams.team

),

final as (

    select
        -- keys
        task_key,

        -- the calendar
        team,
        time_zone,

        -- local days
        created_on,
        started_on,
        completed_on,
        cancelled_on,

        -- local months (their first day)
        {{ month_start('created_on') }} as created_month,
        {{ month_start('started_on') }} as started_month,
        {{ month_start('completed_on') }} as completed_month,
        {{ month_start('cancelled_on') }} as cancelled_month

    from localised

)

select * from final
