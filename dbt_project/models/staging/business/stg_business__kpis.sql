with

source as (

    select * from {{ source('business', 'kpis') }}

),

renamed as (

    select
        -- ids
        trim(kpi_id) as kpi_id,

        -- definition
        name as kpi_name,
        unit,
        lower(trim(area)) as area,
        lower(trim(aggregation)) as aggregation,
        lower(trim(direction)) as direction,
        cadence_days,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
