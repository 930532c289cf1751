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

-- each rule with its shape: which match columns it gives
rules_shaped as (

    select
        workstream_id,
        priority,
        match_source,
        match_project,
        match_epic_id,
        match_label,
        match_source is not null as gives_source,
        match_project is not null as gives_project,
        match_epic_id is not null as gives_epic_id,
        match_label is not null as gives_label

    from workstream_rules

),

-- the shapes the rules have (a handful)
rule_shapes as (

    select distinct
        gives_source,
        gives_project,
        gives_epic_id,
        gives_label

    from rules_shaped

),

tasks_without_workstream as (

    select * from tasks
    where workstream_id is null

),

-- a task's labels, for the rule shapes that give a label (`gives_label` is joined on, so that
-- pairing them with the shapes stays an equality join)
task_labels as (

    select distinct
        source,
        task_id,
        label,
        true as gives_label

    from (
        select
            source,
            task_id,
            {{ exploded('labels') }} as label
        from tasks_without_workstream
    ) as exploded_labels

),

-- each task without a workstream, once per rule shape, with the columns that shape gives (one
-- row per label for a shape that gives one): the rules it matches are those of the same shape
-- with the same values, found by equality. Comparing every task with every rule instead cost
-- tasks x rules (2,635 rules in the million-task demo, most of them one epic each).
task_match_keys as (

    select
        tasks_without_workstream.source,
        tasks_without_workstream.task_id,
        rule_shapes.gives_source,
        rule_shapes.gives_project,
        rule_shapes.gives_epic_id,
        rule_shapes.gives_label,
        case when rule_shapes.gives_source then tasks_without_workstream.source end as match_source,
        case when rule_shapes.gives_project then tasks_without_workstream.project end as match_project,
        case when rule_shapes.gives_epic_id then tasks_without_workstream.epic_id end as match_epic_id,
        task_labels.label as match_label

    from tasks_without_workstream
    cross join rule_shapes
    left join task_labels
        on
            rule_shapes.gives_label = task_labels.gives_label
            and tasks_without_workstream.source = task_labels.source
            and tasks_without_workstream.task_id = task_labels.task_id

),

rule_matches as (

    select
        task_match_keys.source,
        task_match_keys.task_id,
        rules_shaped.workstream_id,
        rules_shaped.priority

    from task_match_keys
    inner join rules_shaped
        on
            task_match_keys.gives_source = rules_shaped.gives_source
            and task_match_keys.gives_project = rules_shaped.gives_project
            and task_match_keys.gives_epic_id = rules_shaped.gives_epic_id
            and task_match_keys.gives_label = rules_shaped.gives_label
            and task_match_keys.match_source is not distinct from rules_shaped.match_source
            and task_match_keys.match_project is not distinct from rules_shaped.match_project
            and task_match_keys.match_epic_id is not distinct from rules_shaped.match_epic_id
            and task_match_keys.match_label is not distinct from rules_shaped.match_label

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
