-- One row per flag (impediment) interval; an open flag has no unflagged_at.
with

source as (

    select * from {{ source('tracker', 'task_flags') }}

),

kept_task_files as (

    {{ kept_task_version_files() }}

),

of_kept_task_versions as (

    -- A tracker page holds a task with its whole history: only the history in the file of the
    -- task's kept version counts, so a pull that finds a task changed replaces its earlier
    -- history instead of adding to it. Canonical files hold tasks and their history apart:
    -- every row of theirs counts.
    select source.*
    from source
    left join kept_task_files
        on
            trim(source.source) = kept_task_files.source
            and trim(source.task_id) = kept_task_files.task_id
    where
        source._source = 'canonical'
        or kept_task_files.source_file is null
        or source._source_file = kept_task_files.source_file

),

renamed as (

    select
        -- ids
        trim(source) as source,
        trim(task_id) as task_id,

        -- timestamps (UTC)
        flagged_at,
        unflagged_at,

        -- descriptors
        reason,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from of_kept_task_versions

),

deduplicated as (

    select *
    from renamed
    qualify row_number() over (
        partition by source, task_id, flagged_at
        order by source_file desc, source_row desc
    ) = 1

)

select * from deduplicated
