-- One row per day and team (grain: flow_date x team): the team's work in progress at the end of
-- the day in its time zone, the tasks in a WIP status category (in_progress, waiting) summed
-- from fct_daily_flow. Like fct_daily_flow, every team has a row for every day, zero included.
with

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

),

final as (

    select
        -- keys
        flow_date,
        team,

        -- measures
        cast(
            sum(case when is_wip_category then task_count else 0 end) as bigint
        ) as wip

    from daily_flow
    group by flow_date, team

)

select * from final
