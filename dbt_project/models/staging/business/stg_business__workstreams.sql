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

)

select * from renamed
