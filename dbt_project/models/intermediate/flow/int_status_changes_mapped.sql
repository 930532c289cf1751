-- One row per status transition of a known task, numbered in a deterministic order and mapped to
-- the categories of its from- and to-status. Order: changed_at, then the source's own sequence
-- (trackers give transitions of one save the same timestamp), then the landing file and row.
-- Transitions of a task missing from the task extract are left out here and fail the
-- relationships test on the staging view.
with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

status_changes as (

    select * from {{ ref('stg_tracker__task_status_changes') }}

),

task_statuses as (

    select * from {{ ref('int_task_statuses_mapped') }}

),

status_changes_of_tasks as (

    select
        status_changes.*,
        tasks.project,
        tasks.created_at as task_created_at

    from status_changes
    inner join tasks
        on
            status_changes.source = tasks.source
            and status_changes.task_id = tasks.task_id

),

numbered as (

    select
        *,
        row_number() over (
            partition by source, task_id
            order by changed_at, source_sequence nulls last, source_file, source_row
        ) as transition_index

    from status_changes_of_tasks

),

final as (

    select
        -- keys
        numbered.source || ':' || numbered.task_id as task_key,
        numbered.source,
        numbered.task_id,
        numbered.transition_index,

        -- descriptors
        numbered.project,
        numbered.from_status,
        from_statuses.status_category as from_status_category,
        numbered.to_status,
        to_statuses.status_category as to_status_category,
        numbered.author,

        -- timestamps (UTC)
        numbered.changed_at,
        numbered.task_created_at,

        -- lineage
        numbered.source_sequence,
        numbered.source_file,
        numbered.source_row

    from numbered
    left join task_statuses as from_statuses
        on
            numbered.source = from_statuses.source
            and numbered.project is not distinct from from_statuses.project
            and {{ status_match_key('numbered.from_status') }} = from_statuses.status_key
    left join task_statuses as to_statuses
        on
            numbered.source = to_statuses.source
            and numbered.project is not distinct from to_statuses.project
            and {{ status_match_key('numbered.to_status') }} = to_statuses.status_key

)

select * from final
