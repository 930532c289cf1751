-- One row per task per source. The same task in several files (overlapping export pages, a re-sent
-- CSV, successive pulls of a tracker) keeps its newest version: the one updated last, then the
-- one of the latest file (macro task_version_order), so a re-export never doubles a task.
-- Incremental on DuckDB: a nightly build stages again only the tasks whose landed rows changed
-- (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(staged_task_key(), ref('stg_tracker__changed_tasks')) }}"
) }}
{%- set changed_tasks = ref('stg_tracker__changed_tasks') %}

with

source as (

    select * from {{ source('tracker', 'tasks') }}
    where {{ is_task_to_rebuild("trim(source) || ':' || trim(task_id)", changed_tasks) }}

),

renamed as (

    select
        -- ids
        trim(source) as source,
        trim(task_id) as task_id,
        nullif(trim(parent_id), '') as parent_id,
        nullif(trim(epic_id), '') as epic_id,
        nullif(trim(workstream_id), '') as workstream_id,

        -- descriptors
        title,
        lower(trim(task_type)) as task_type,
        trim(status) as status,
        nullif(trim(team), '') as team,
        nullif(trim(project), '') as project,
        coalesce(labels, {{ string_array([]) }}) as labels,
        assignee,
        story_points,
        priority,
        resolution,
        nullif(lower(trim(found_in)), '') as found_in,
        url,

        -- timestamps (UTC)
        created_at,
        updated_at,

        -- completeness
        coalesce(is_history_truncated, false) as is_history_truncated,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

),

deduplicated as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, task_id
                order by {{ task_version_order() }}
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
