-- One row per task and status interval. Creation opens the first interval, in the first
-- transition's from_status (or the task's current status when it has no transitions); each
-- transition opens the next, which lasts until the following transition; the last interval is
-- open (exited_at null). Intervals of a task never overlap and leave no gap.
-- Incremental on DuckDB: a nightly build rebuilds only the tasks of int_tasks_to_rebuild
-- (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}"
) }}
{%- set tasks_to_rebuild = ref('int_tasks_to_rebuild') %}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}
    where {{ is_task_to_rebuild("source || ':' || task_id", tasks_to_rebuild) }}

),

status_changes as (

    select * from {{ ref('int_status_changes_mapped') }}
    where {{ is_task_to_rebuild('task_key', tasks_to_rebuild) }}

),

task_statuses as (

    select * from {{ ref('int_task_statuses_mapped') }}

),

first_transitions as (

    select * from status_changes
    where transition_index = 1

),

creation_intervals as (

    select
        tasks.source,
        tasks.task_id,
        tasks.project,
        0 as transition_index,
        -- null when the source gives no from_status: the status at creation is unknown
        case
            when first_transitions.task_id is null then tasks.status
            else first_transitions.from_status
        end as status,
        tasks.created_at as entered_at,
        -- lineage: the task's row says when it was created
        tasks.source_file,
        tasks.source_row

    from tasks
    left join first_transitions
        on
            tasks.source = first_transitions.source
            and tasks.task_id = first_transitions.task_id

),

transition_intervals as (

    select
        source,
        task_id,
        project,
        transition_index,
        to_status as status,
        -- a transition stamped before its task's creation (clock skew between a tracker's
        -- services; the history checks fail beyond a tolerance) is taken to happen at creation,
        -- so no interval ends before it starts
        case
            when changed_at < task_created_at then task_created_at
            else changed_at
        end as entered_at,
        -- lineage: the transition that entered the status
        source_file,
        source_row

    from status_changes

),

intervals as (

    select * from creation_intervals

    union all

    select * from transition_intervals

),

windowed as (

    select
        *,
        transition_index + 1 as interval_index,
        lead(entered_at) over (
            partition by source, task_id
            order by transition_index
        ) as exited_at

    from intervals

),

final as (

    select
        -- keys
        windowed.source || ':' || windowed.task_id as task_key,
        windowed.source,
        windowed.task_id,
        windowed.interval_index,

        -- status; an unknown status at creation counts as not yet committed (todo)
        windowed.project,
        windowed.status,
        case
            when windowed.status is null then 'todo'
            else task_statuses.status_category
        end as status_category,
        task_statuses.workflow_column,
        task_statuses.column_order as workflow_column_order,
        coalesce(windowed.status is not null and task_statuses.is_active, false) as is_active,
        coalesce(windowed.status is not null and task_statuses.is_blocked, false) as is_blocked,

        -- timestamps (UTC)
        windowed.entered_at,
        windowed.exited_at,
        windowed.exited_at is null as is_current,

        -- lineage: the landing file and record that say the interval began
        windowed.source_file,
        windowed.source_row

    from windowed
    left join task_statuses
        on
            windowed.source = task_statuses.source
            and windowed.project is not distinct from task_statuses.project
            and {{ status_match_key('windowed.status') }} = task_statuses.status_key

)

select * from final
