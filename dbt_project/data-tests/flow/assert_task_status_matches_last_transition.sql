-- History consistency (docs/data-quality.md, "Blocking: history consistency"): a task's current
-- status equals the to-status of its last transition (ignoring case and surrounding spaces).
-- When they differ the export is incomplete (a truncated changelog) and every interval-based
-- metric of the task would be wrong.
-- reads several models: Dagster shows it as a check of int_status_changes_mapped
{{ config(meta={'dagster': {'ref': {'name': 'int_status_changes_mapped'}}}) }}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

status_changes as (

    select * from {{ ref('int_status_changes_mapped') }}

),

last_transitions as (

    select *
    from status_changes
    qualify row_number() over (
        partition by source, task_id
        order by transition_index desc
    ) = 1

)

select
    tasks.source,
    tasks.task_id,
    tasks.status as current_status,
    last_transitions.to_status as last_transition_to_status,
    last_transitions.changed_at as last_transition_at

from tasks
inner join last_transitions
    on
        tasks.source = last_transitions.source
        and tasks.task_id = last_transitions.task_id
where {{ status_match_key('tasks.status') }} <> {{ status_match_key('last_transitions.to_status') }}
