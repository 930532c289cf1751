with

source as (

    select * from {{ source('impact', 'kpi_observations') }}

),

renamed as (

    select
        -- ids
        trim(kpi_id) as kpi_id,
        coalesce(nullif(trim(segment), ''), 'all') as segment,

        -- measure
        observed_on,
        value as observed_value,
        unit,

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
                partition by kpi_id, segment, observed_on
                order by source_file desc, source_row desc
            ) as row_rank
        from renamed
    ) as ranked
    where row_rank = 1

)

select * from deduplicated
