-- One row per task with its flow item type (feature, defect, debt, risk) from the `work_types`
-- seed. A seed row matches when every column it gives matches the task: its task_type equals the
-- task's type, its label is one of the task's labels (both ignoring case and spaces). Labels win
-- over types: rows giving both columns first, then label rows, then type rows; ties go to risk,
-- then debt, then defect, then feature. A task no row matches is a feature.
-- Incremental on DuckDB: a nightly build rebuilds only the tasks whose landed rows changed
-- (stg_tracker__changed_tasks, like the staging models): it reads nothing shared but a seed, which
-- is code (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild('task_key', ref('stg_tracker__changed_tasks')) }}"
) }}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}
    where {{ is_task_to_rebuild(staged_task_key(), ref('stg_tracker__changed_tasks')) }}

),

work_types as (

    select * from {{ ref('work_types') }}

),

seed_rows as (

    select
        nullif(lower(trim(task_type)), '') as match_task_type,
        nullif(trim(label), '') as match_label,
        flow_item_type

    from work_types

),

candidate_matches as (

    select
        tasks.source,
        tasks.task_id,
        seed_rows.flow_item_type,
        seed_rows.match_label is not null as matched_on_label,
        seed_rows.match_task_type is not null as matched_on_task_type

    from tasks
    inner join seed_rows
        on
            (seed_rows.match_task_type is null or tasks.task_type = seed_rows.match_task_type)
            and (
                seed_rows.match_label is null
                or {{ array_any(
                    'tasks.labels', 'task_label', 'lower(trim(task_label)) = lower(trim(seed_rows.match_label))'
                ) }}
            )

),

best_matches as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, task_id
                order by
                    matched_on_label desc,
                    matched_on_task_type desc,
                    case flow_item_type
                        when 'risk' then 1
                        when 'debt' then 2
                        when 'defect' then 3
                        else 4
                    end
            ) as row_rank
        from candidate_matches
    ) as ranked
    where row_rank = 1

),

final as (

    select
        -- keys
        tasks.source || ':' || tasks.task_id as task_key,
        tasks.source,
        tasks.task_id,

        -- classification
        coalesce(best_matches.flow_item_type, 'feature') as flow_item_type,
        case
            when best_matches.matched_on_label then 'label'
            when best_matches.matched_on_task_type then 'task_type'
            else 'default'
        end as flow_item_type_matched_on

    from tasks
    left join best_matches
        on
            tasks.source = best_matches.source
            and tasks.task_id = best_matches.task_id

)

select * from final
