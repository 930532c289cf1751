-- One row per task and status interval (grain: task_key x interval_index) with the local
-- calendar days of the task's team whose end the interval covers: [first_day_covered,
-- first_day_not_covered). A status counts at the end of local day D when the task entered it
-- before the following midnight and left it at or after that midnight, so an interval covers
-- the local days from its entry day up to, not including, its exit day; one that begins and
-- ends within a day covers none (first_day_not_covered = first_day_covered). The open interval
-- has no first_day_not_covered. Daily counts (fct_daily_flow and its variants) are running sums
-- of +1 on first_day_covered and -1 on first_day_not_covered, one pass however long the history.
-- Incremental on DuckDB: a nightly build rebuilds only the tasks of int_tasks_to_rebuild
-- (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}"
) }}
{%- set tasks_to_rebuild = ref('int_tasks_to_rebuild') %}

with

intervals as (

    select * from {{ ref('int_status_changes_windowed_to_intervals') }}
    where {{ is_task_to_rebuild('task_key', tasks_to_rebuild) }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

task_workstreams as (

    select * from {{ ref('int_tasks_joined_to_workstreams') }}

),

status_categories as (

    select * from {{ ref('status_categories') }}

),

-- a status unknown at creation (the source gave no from_status) counts as todo, in the first
-- column of the board
first_workflow_column as (

    select workflow_column
    from status_categories
    order by column_order, workflow_column
    limit 1

),

interval_first_days as (

    select
        intervals.task_key,
        intervals.interval_index,
        task_teams.team,
        task_workstreams.workstream_id,
        intervals.status_category,
        coalesce(intervals.workflow_column, first_workflow_column.workflow_column)
            as workflow_column,
        intervals.is_blocked,
        {{ local_date('intervals.entered_at', 'task_teams.time_zone') }} as first_day_covered

    from intervals
    inner join task_teams
        on intervals.task_key = task_teams.task_key
    inner join task_workstreams
        on intervals.task_key = task_workstreams.task_key
    cross join first_workflow_column

),

-- the intervals of a task are contiguous, so an interval's exit day is the next one's entry
-- day: one time zone conversion per interval, not two
final as (

    select
        -- keys
        task_key,
        cast(interval_index as integer) as interval_index,

        -- descriptors
        team,
        workstream_id,
        status_category,
        status_category in ('in_progress', 'waiting') as is_wip_category,
        workflow_column,
        is_blocked,

        -- local days covered
        first_day_covered,
        lead(first_day_covered) over (
            partition by task_key
            order by interval_index
        ) as first_day_not_covered

    from interval_first_days

)

select * from final
