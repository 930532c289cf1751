-- One row per status transition. Identical transitions that arrive twice (overlapping export
-- pages) are kept once; the order of transitions with the same timestamp is the source's own
-- sequence, then the position in the file. Incremental on DuckDB: a nightly build stages again
-- only the tasks whose landed rows changed (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(staged_task_key(), ref('stg_tracker__changed_tasks')) }}"
) }}
{%- set changed_tasks = ref('stg_tracker__changed_tasks') %}

with

source as (

    -- only the history of each task's kept version (macro rows_of_kept_task_versions)
    {{ rows_of_kept_task_versions(source('tracker', 'task_status_changes'), changed_tasks) }}

),

renamed as (

    select
        -- ids
        trim(source) as source,
        trim(task_id) as task_id,

        -- transition
        nullif(trim(from_status), '') as from_status,
        trim(to_status) as to_status,
        author,

        -- timestamps (UTC)
        changed_at,

        -- ordering
        sequence as source_sequence,

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
                partition by source, task_id, changed_at, coalesce(from_status, ''), to_status, coalesce(source_sequence, -1)
                order by source_file desc, source_row desc
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
