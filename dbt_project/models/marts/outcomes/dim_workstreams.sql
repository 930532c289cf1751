-- One row per workstream: the outcome it serves and the hypothesis that ties its work to it.
with

workstreams as (

    select * from {{ ref('stg_business__workstreams') }}

),

final as (

    select
        -- ids
        workstream_id,
        workstream_name,
        outcome_id,

        -- why the work should move the outcome
        hypothesis

    from workstreams

)

select * from final
