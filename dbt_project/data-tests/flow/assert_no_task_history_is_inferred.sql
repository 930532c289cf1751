-- Truncated histories (DECISIONS "Truncated histories"): a task whose export cut its history
-- short and whose current status is not the one its last loaded transition entered gets one
-- inferred transition, so the build goes on. This warning names each such task, with the file
-- it came from, so that its whole history can be pulled (`owh extract jira` completes every
-- changelog); `owh check` lists it under "Checks warned".
-- reads several models: Dagster shows it as a check of int_status_changes_mapped
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_status_changes_mapped'}}}) }}

select
    source,
    task_id,
    from_status as last_loaded_status,
    to_status as current_status,
    changed_at as inferred_at,
    source_file

from {{ ref('int_status_changes_mapped') }}
where is_inferred
