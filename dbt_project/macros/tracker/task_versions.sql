{#- Which version of a task the warehouse keeps when several landing files hold it (overlapping
    export pages, successive pulls): the one the tracker updated last, then the one of the latest
    file (pull folders are named by pull time, so a later pull sorts later), then the last row.
    `file` and `row` name the lineage columns as the calling model spells them. -#}
{% macro task_version_order(file='source_file', row='source_row') -%}
    updated_at desc nulls last, {{ file }} desc, {{ row }} desc
{%- endmacro %}


{#- The landing file of each task's kept version: (source, task_id, source_file). A tracker page
    (Jira, GitHub, Linear) carries a task together with its whole history, so the history of the
    kept version is the one in the same file; see stg_tracker__task_status_changes. -#}
{% macro kept_task_version_files() -%}
    select
        trim(source) as source,
        trim(task_id) as task_id,
        _source_file as source_file
    from {{ source('tracker', 'tasks') }}
    qualify row_number() over (
        partition by trim(source), trim(task_id)
        order by {{ task_version_order('_source_file', '_source_row') }}
    ) = 1
{%- endmacro %}
