-- One row per workstream (grain: workstream_id): where its tasks stood at the end of the as_of
-- day, each in its own team's time zone, and how many days are left to its outcome's target date.
-- A task's state is the status category it was in at that day end, so a re-run for a past as_of
-- counts the board as it was; a task created after that day end does not count yet. Remaining
-- tasks are the ones neither completed nor cancelled: what a delivery forecast must see through.
with

workstreams as (

    select * from {{ ref('stg_business__workstreams') }}

),

outcomes as (

    select * from {{ ref('stg_business__outcomes') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_localised_to_days') }}

),

-- an interval covers the ends of the local days in [first_day_covered, first_day_not_covered):
-- at most one interval of a task covers the end of the as_of day
statuses_at_as_of as (

    select
        workstream_id,
        task_key,
        status_category

    from intervals

    where
        workstream_id is not null
        and first_day_covered <= {{ as_of_date() }}
        and (first_day_not_covered is null or first_day_not_covered > {{ as_of_date() }})

),

task_counts as (

    select
        workstream_id,
        count(*) as linked_tasks,
        sum(case when status_category = 'done' then 1 else 0 end) as completed_tasks,
        sum(case when status_category = 'cancelled' then 1 else 0 end) as cancelled_tasks,
        sum(
            case when status_category in ('in_progress', 'waiting') then 1 else 0 end
        ) as in_progress_tasks

    from statuses_at_as_of

    group by workstream_id

),

final as (

    select
        -- ids
        workstreams.workstream_id,
        workstreams.outcome_id,

        -- dates
        {{ as_of_date() }} as as_of_date,
        outcomes.target_on,
        cast({{ dbt.datediff(as_of_date(), 'outcomes.target_on', 'day') }} as bigint) as days_to_target,

        -- task counts at the end of the as_of day (0 for a workstream without tasks)
        cast(coalesce(task_counts.linked_tasks, 0) as bigint) as linked_tasks,
        cast(coalesce(task_counts.completed_tasks, 0) as bigint) as completed_tasks,
        cast(coalesce(task_counts.cancelled_tasks, 0) as bigint) as cancelled_tasks,
        -- everything neither completed nor cancelled, whatever its category (an unmapped status,
        -- which the history checks report, still counts as work to do)
        cast(
            coalesce(
                task_counts.linked_tasks - task_counts.completed_tasks - task_counts.cancelled_tasks,
                0
            ) as bigint
        ) as remaining_tasks,
        cast(coalesce(task_counts.in_progress_tasks, 0) as bigint) as in_progress_tasks

    from workstreams

    left join task_counts
        on workstreams.workstream_id = task_counts.workstream_id

    -- null target for a workstream whose outcome is undefined (dim_workstreams tests it)
    left join outcomes
        on workstreams.outcome_id = outcomes.outcome_id

)

select * from final
