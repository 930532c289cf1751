-- One row per task whose history the incremental models rebuild (grain: task_key), and why:
-- the tasks whose landed rows changed (stg_tracker__changed_tasks: new, changed, gone), or every
-- task when an input shared by all of them changed (int_task_shared_inputs_fingerprinted against
-- the build this one started from, the source previous_build). The staging models are rebuilt for
-- the changed tasks alone: they read nothing shared.
with

changed_tasks as (

    select * from {{ ref('stg_tracker__changed_tasks') }}

),

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

shared_inputs as (

    select * from {{ ref('int_task_shared_inputs_fingerprinted') }}

),

previous_shared_inputs as (

    select * from {{ source('previous_build', 'task_shared_inputs_fingerprinted') }}

),

-- a row in both builds that differs, or a whole table (input_key '') in one build only; a keyed
-- row in one build only (a status seen first, or no longer) belongs to tasks that changed
changed_shared_inputs as (

    select coalesce(shared_inputs.input_name, previous_shared_inputs.input_name) as input_name

    from shared_inputs
    full outer join previous_shared_inputs
        on
            shared_inputs.input_name = previous_shared_inputs.input_name
            and shared_inputs.input_key = previous_shared_inputs.input_key
    where
        (shared_inputs.input_name is null and previous_shared_inputs.input_key = '')
        or (previous_shared_inputs.input_name is null and shared_inputs.input_key = '')
        or shared_inputs.input_fingerprint <> previous_shared_inputs.input_fingerprint
        or shared_inputs.input_rows <> previous_shared_inputs.input_rows

),

tasks_of_changed_shared_inputs as (

    select
        tasks.source || ':' || tasks.task_id as task_key,
        tasks.source,
        tasks.task_id,
        'shared input changed' as reason

    from tasks
    where exists (select 1 from changed_shared_inputs)

),

final as (

    select
        task_key,
        source,
        task_id,
        change as reason

    from changed_tasks

    union all

    select * from tasks_of_changed_shared_inputs
    where not exists (
        select 1 from changed_tasks
        where changed_tasks.task_key = tasks_of_changed_shared_inputs.task_key
    )

)

select * from final
