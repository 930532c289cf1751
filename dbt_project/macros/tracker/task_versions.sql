{#- Which version of a task the warehouse keeps when several landing files hold it (overlapping
    export pages, successive pulls): the one the tracker updated last, then the one of the latest
    file (pull folders are named by pull time, so a later pull sorts later), then the last row.
    `file` and `row` name the lineage columns as the calling model spells them. -#}
{% macro task_version_order(file='source_file', row='source_row') -%}
    updated_at desc nulls last, {{ file }} desc, {{ row }} desc
{%- endmacro %}


{#- The landing file of each task's kept version: (source, task_id, source_file). A tracker page
    (Jira, GitHub, Linear) carries a task together with its whole history, so the history of the
    kept version is the one in the same file (macro rows_of_kept_task_versions). Given
    `tasks_to_rebuild` (macros/incremental/tasks_to_rebuild.sql), an incremental run ranks only
    the versions of those tasks. -#}
{% macro kept_task_version_files(tasks_to_rebuild=none) -%}
    select
        source,
        task_id,
        source_file
    from (
        select
            trim(source) as source,
            trim(task_id) as task_id,
            _source_file as source_file,
            row_number() over (
                partition by trim(source), trim(task_id)
                order by {{ task_version_order('_source_file', '_source_row') }}
            ) as row_rank
        from {{ source('tracker', 'tasks') }}
        {%- if tasks_to_rebuild is not none %}
        where {{ is_task_to_rebuild("trim(source) || ':' || trim(task_id)", tasks_to_rebuild) }}
        {%- endif %}
    ) as ranked
    where row_rank = 1
{%- endmacro %}


{#- The rows of a history table (status changes, flags) that belong to each task's kept
    version. A tracker page holds a task with its whole history: only the history in the file of
    the task's kept version counts, so a pull that finds a task changed replaces its earlier
    history instead of adding to it. Canonical files hold tasks and their history apart: every
    row of theirs counts, and so does a row whose task is missing (the relationships test on the
    staging view reports it). Given `tasks_to_rebuild`, an incremental run reads only the rows of
    those tasks. -#}
{% macro rows_of_kept_task_versions(relation, tasks_to_rebuild=none) -%}
    select history_rows.*
    from {{ relation }} as history_rows
    left join ({{ kept_task_version_files(tasks_to_rebuild) }}) as kept_task_files
        on
            trim(history_rows.source) = kept_task_files.source
            and trim(history_rows.task_id) = kept_task_files.task_id
    where
        (
            history_rows._source = 'canonical'
            or kept_task_files.source_file is null
            or history_rows._source_file = kept_task_files.source_file
        )
        {%- if tasks_to_rebuild is not none %}
        and {{ is_task_to_rebuild(
            "trim(history_rows.source) || ':' || trim(history_rows.task_id)", tasks_to_rebuild
        ) }}
        {%- endif %}
{%- endmacro %}
