-- One row per status transition of a known task, numbered in a deterministic order and mapped to
-- the categories of its from- and to-status. Order: changed_at, then the source's own sequence
-- (trackers give transitions of one save the same timestamp), then the landing file and row.
-- Transitions of a task missing from the task extract are left out here and fail the
-- relationships test on the staging view.
-- A task whose export says its history is cut short (is_history_truncated) and whose current
-- status is not the one its last loaded transition entered gets one inferred transition, from
-- that status to the current one, at the task's last update (never before the last loaded
-- transition): the missing ones cannot be known, the current status can (DECISIONS "Truncated
-- histories"). It is flagged is_inferred, and the task's cycle time is left unknown in fct_tasks.
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

    select * from {{ ref('stg_tracker__task_status_changes') }}
    where {{ is_task_to_rebuild("source || ':' || task_id", tasks_to_rebuild) }}

),

task_statuses as (

    select * from {{ ref('int_task_statuses_mapped') }}

),

status_changes_of_tasks as (

    select
        status_changes.*,
        tasks.project,
        tasks.created_at as task_created_at,
        tasks.is_history_truncated as is_task_history_truncated

    from status_changes
    inner join tasks
        on
            status_changes.source = tasks.source
            and status_changes.task_id = tasks.task_id

),

-- the last loaded transition matters only for a task whose history is cut short: ranking every
-- other task's transitions too would sort the whole history for nothing
last_loaded_transitions as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, task_id
                order by changed_at desc, source_sequence desc nulls first, source_file desc, source_row desc
            ) as row_rank
        from status_changes_of_tasks
        where is_task_history_truncated
    ) as ranked
    where row_rank = 1

),

inferred_transitions as (

    select
        last_loaded.source,
        last_loaded.task_id,
        last_loaded.to_status as from_status,
        tasks.status as to_status,
        cast(null as {{ dbt.type_string() }}) as author,
        case
            when tasks.updated_at > last_loaded.changed_at then tasks.updated_at
            else last_loaded.changed_at
        end as changed_at,
        cast(null as {{ dbt.type_bigint() }}) as source_sequence,
        tasks.source_file,
        tasks.source_row,
        last_loaded.project,
        last_loaded.task_created_at,
        true as is_inferred

    from last_loaded_transitions as last_loaded
    inner join tasks
        on
            last_loaded.source = tasks.source
            and last_loaded.task_id = tasks.task_id
    where
        tasks.is_history_truncated
        and {{ status_match_key('tasks.status') }} <> {{ status_match_key('last_loaded.to_status') }}

),

loaded_and_inferred as (

    select
        source,
        task_id,
        from_status,
        to_status,
        author,
        changed_at,
        source_sequence,
        source_file,
        source_row,
        project,
        task_created_at,
        false as is_inferred

    from status_changes_of_tasks

    union all

    select * from inferred_transitions

),

numbered as (

    select
        *,
        -- a bigint on every engine (Spark's row_number is an int)
        cast(row_number() over (
            partition by source, task_id
            order by changed_at, source_sequence nulls last, source_file, source_row
        ) as bigint) as transition_index

    from loaded_and_inferred

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

        -- completeness
        numbered.is_inferred,

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
