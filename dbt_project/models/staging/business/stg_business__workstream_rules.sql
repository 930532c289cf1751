-- A rule's empty match column matches anything; given columns must all equal the task's.
with

source as (

    select * from {{ source('business', 'workstream_rules') }}

),

renamed as (

    select
        -- ids
        trim(workstream_id) as workstream_id,

        -- precedence (higher wins)
        priority,

        -- match columns (null = any)
        nullif(trim(source), '') as match_source,
        nullif(trim(project), '') as match_project,
        nullif(trim(epic_id), '') as match_epic_id,
        nullif(trim(label), '') as match_label,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _loaded_at as loaded_at

    from source

)

select * from renamed
