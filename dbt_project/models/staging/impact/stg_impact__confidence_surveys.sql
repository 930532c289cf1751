with

source as (

    select * from {{ source('impact', 'confidence_surveys') }}

),

renamed as (

    select
        -- ids
        trim(outcome_id) as outcome_id,
        respondent,

        -- answer
        answered_on,
        lower(trim(dimension)) as dimension,
        score,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
