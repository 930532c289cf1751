with

source as (

    select * from {{ source('business', 'outcomes') }}

),

renamed as (

    select
        -- ids
        trim(outcome_id) as outcome_id,
        trim(kpi_id) as kpi_id,

        -- definition
        statement,
        owner,

        -- baseline and target
        baseline_value,
        baseline_on,
        target_value,
        target_on,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
