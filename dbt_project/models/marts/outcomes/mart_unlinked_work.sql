-- One row per calendar month and team (grain: month x team): how much of the team's
-- delivery reached no outcome (docs/metrics.md, "Unlinked work"), as a share of throughput and of
-- active time, with the unlinked tasks created in the month and in WIP at its end. Unlinked means
-- `not is_linked` in fct_tasks: no workstream of its own and no matching rule, or a workstream
-- whose outcome is not defined. Months are the team's local calendar months, half-open, like
-- mart_quality_monthly: every team has a row for every month from its first task creation to the
-- as_of month, and the month's throughput equals mart_quality_monthly's.
-- Its logic lives in int_team_months_aggregated_to_unlinked_work, which the other models that need it
-- read too; this model publishes it under its contract.
with

team_months_aggregated_to_unlinked_work as (

    select * from {{ ref('int_team_months_aggregated_to_unlinked_work') }}

),

final as (

    select
        month,
        team,
        throughput,
        unlinked_throughput,
        unlinked_throughput_share,
        active_time_days,
        unlinked_active_time_days,
        unlinked_active_time_share,
        tasks_created,
        unlinked_tasks_created,
        wip_at_month_end,
        unlinked_wip_at_month_end

    from team_months_aggregated_to_unlinked_work

)

select * from final
