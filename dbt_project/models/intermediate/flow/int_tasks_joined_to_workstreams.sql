-- One row per task with the workstream it serves and the outcome that workstream is meant to
-- move. A task's own workstream_id wins; a task without one joins the workstream of the
-- highest-priority rule whose given match columns (source, project, epic, label) all equal the
-- task's, ties going to the lowest workstream_id. A task is linked when its workstream leads to a
-- defined outcome; unlinked work is a finding the marts measure, not an error.
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

workstream_rules as (

    select * from {{ ref('stg_business__workstream_rules') }}

),

workstreams as (

    select * from {{ ref('stg_business__workstreams') }}

),

outcomes as (

    select * from {{ ref('stg_business__outcomes') }}

),

rule_matches as (

    select
        tasks.source,
        tasks.task_id,
        workstream_rules.workstream_id,
        workstream_rules.priority

    from tasks
    inner join workstream_rules
        on
            (workstream_rules.match_source is null or tasks.source = workstream_rules.match_source)
            and (
                workstream_rules.match_project is null
                or tasks.project = workstream_rules.match_project
            )
            and (
                workstream_rules.match_epic_id is null
                or tasks.epic_id = workstream_rules.match_epic_id
            )
            and (
                workstream_rules.match_label is null
                or {{ array_contains_value('tasks.labels', 'workstream_rules.match_label') }}
            )
    where tasks.workstream_id is null

),

winning_rules as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, task_id
                order by priority desc, workstream_id asc nulls last
            ) as row_rank
        from rule_matches
    ) as ranked
    where row_rank = 1

),

tasks_with_workstream as (

    select
        tasks.source,
        tasks.task_id,
        coalesce(tasks.workstream_id, winning_rules.workstream_id) as workstream_id,
        case
            when tasks.workstream_id is not null then 'task'
            when winning_rules.workstream_id is not null then 'rule'
        end as workstream_assigned_by

    from tasks
    left join winning_rules
        on
            tasks.source = winning_rules.source
            and tasks.task_id = winning_rules.task_id

),

final as (

    select
        -- keys
        tasks_with_workstream.source || ':' || tasks_with_workstream.task_id as task_key,
        tasks_with_workstream.source,
        tasks_with_workstream.task_id,

        -- foreign keys
        tasks_with_workstream.workstream_id,
        workstreams.outcome_id,

        -- linkage
        tasks_with_workstream.workstream_assigned_by,
        outcomes.outcome_id is not null as is_linked

    from tasks_with_workstream
    left join workstreams
        on tasks_with_workstream.workstream_id = workstreams.workstream_id
    left join outcomes
        on workstreams.outcome_id = outcomes.outcome_id

)

select * from final
