-- One row per workstream. The PMO re-sends definition files; the same workstream_id in two
-- files keeps the row from the file that sorts last, so a re-sent file never doubles a
-- definition.
with

source as (

    select * from {{ source('business', 'workstreams') }}

),

renamed as (

    select
        -- ids
        trim(workstream_id) as workstream_id,
        trim(outcome_id) as outcome_id,

        -- definition
        name as workstream_name,
        hypothesis,

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
                partition by workstream_id
                order by source_file desc, source_row desc
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
