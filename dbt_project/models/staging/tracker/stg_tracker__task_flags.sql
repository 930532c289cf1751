-- One row per flag (impediment) interval; an open flag has no unflagged_at.
with

source as (

    -- only the history of each task's kept version (macro rows_of_kept_task_versions)
    {{ rows_of_kept_task_versions(source('tracker', 'task_flags')) }}

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

    from source

),

deduplicated as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, task_id, flagged_at
                order by source_file desc, source_row desc
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
