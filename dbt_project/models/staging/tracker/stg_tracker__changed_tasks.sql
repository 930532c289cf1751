-- One row per task whose landed rows differ from those of the build this one started from
-- (grain: task_key): `new` (no rows then), `changed`, or `gone` (no rows now). The fingerprints
-- of that build are its stg_tracker__task_input_fingerprints, copied into this build's file as
-- the source previous_build before dbt runs; a build that started from nothing has none, and every
-- task is new. The incremental staging models rebuild exactly these tasks.
with

fingerprints as (

    select * from {{ ref('stg_tracker__task_input_fingerprints') }}

),

previous_fingerprints as (

    select * from {{ source('previous_build', 'task_input_fingerprints') }}

),

compared as (

    select
        coalesce(fingerprints.task_key, previous_fingerprints.task_key) as task_key,
        coalesce(fingerprints.source, previous_fingerprints.source) as source,
        coalesce(fingerprints.task_id, previous_fingerprints.task_id) as task_id,
        case
            when previous_fingerprints.task_key is null then 'new'
            when fingerprints.task_key is null then 'gone'
            else 'changed'
        end as change

    from fingerprints
    full outer join previous_fingerprints
        on fingerprints.task_key = previous_fingerprints.task_key
    where
        fingerprints.task_key is null
        or previous_fingerprints.task_key is null
        or fingerprints.input_fingerprint <> previous_fingerprints.input_fingerprint
        or fingerprints.input_rows <> previous_fingerprints.input_rows

)

select * from compared
