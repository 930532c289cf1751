-- One row per unlinked task that is not cancelled (grain: task_key): the work behind
-- mart_unlinked_work, so that a leader can see which work reaches no outcome and decide whether
-- it needs a workstream, a rule, or to stop. Cancelled tasks are left out: they no longer take
-- anyone's time. The local months place each task in the rows of mart_unlinked_work it counts in.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

unlinked_tasks as (

    select
        tasks.*,
        task_calendar.created_month,
        task_calendar.completed_month

    from tasks
    inner join task_calendar
        on tasks.task_key = task_calendar.task_key
    where
        not tasks.is_linked
        and not tasks.is_cancelled

),

final as (

    select
        -- keys
        task_key,
        source,
        task_id,

        -- descriptors
        title,
        team,
        project,
        task_type,
        flow_item_type,
        current_status,
        current_category,
        -- a workstream whose outcome is not defined leaves the task unlinked
        workstream_id,

        -- milestones (UTC) and the team's local months they fall in
        created_at,
        started_at,
        completed_at,
        created_month,
        completed_month,

        -- measures
        is_completed,
        active_time_days,
        cycle_time_days,
        lead_time_days

    from unlinked_tasks

)

select * from final
