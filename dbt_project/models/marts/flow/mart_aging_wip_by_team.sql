-- One row per team with work in progress at the end of the as_of day (grain: team): its WIP
-- tasks of mart_aging_wip counted per aging band, and the trailing window (var
-- trailing_window_days) whose completions the bands compare with. A team without WIP has no row.
with

aging_wip as (

    select * from {{ ref('int_wip_tasks_aged_at_as_of') }}

),

final as (

    select
        -- keys
        team,
        as_of_date,

        -- measures
        cast(count(*) as bigint) as wip_tasks,
        cast(sum(case when aging_band = 'below_p50' then 1 else 0 end) as bigint)
            as below_p50_tasks,
        cast(sum(case when aging_band = 'p50_p85' then 1 else 0 end) as bigint)
            as p50_p85_tasks,
        cast(sum(case when aging_band = 'p85_p95' then 1 else 0 end) as bigint)
            as p85_p95_tasks,
        cast(sum(case when aging_band = 'above_p95' then 1 else 0 end) as bigint)
            as above_p95_tasks,
        cast(sum(case when aging_band is null then 1 else 0 end) as bigint)
            as unbanded_tasks,

        -- parameters
        cast({{ var('trailing_window_days') }} as integer) as trailing_window_days

    from aging_wip
    group by team, as_of_date

)

select * from final
