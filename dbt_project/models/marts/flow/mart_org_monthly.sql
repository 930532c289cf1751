-- One row per calendar month (grain: month): the organisation's numbers for the month, as the
-- report's headline shows them. The task counts are the sums over teams of each team's own local
-- month, as int_team_months_aggregated_to_unlinked_work counts it (and mart_unlinked_work and
-- mart_quality_monthly publish it): a UTC month would move a completion near midnight into the
-- neighbouring month for every team away from UTC. WIP is that of each team at the end of the
-- month's last day, or of the as_of day for the month in progress. Outcome statuses are those of
-- int_outcome_months_judged_against_targets (mart_outcome_progress) for the month; an outcome
-- without a row for the month is not evaluated. Months are those of any team or outcome, and the
-- as_of month always.
with

team_months as (

    select * from {{ ref('int_team_months_aggregated_to_unlinked_work') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

outcomes as (

    select * from {{ ref('dim_outcomes') }}

),

outcome_progress as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

execution_vs_delivery as (

    select * from {{ ref('int_outcome_months_compared_with_execution') }}

),

months as (

    select month from team_months

    union

    select month from outcome_progress

    union

    select {{ month_start(as_of_date()) }} as month

),

month_ends as (

    select
        month,
        cast(least({{ dbt.last_day('month', 'month') }}, {{ as_of_date() }}) as date)
            as month_end_on

    from months

),

-- the teams' own local months, added up
team_totals as (

    select
        month,
        sum(throughput) as throughput,
        sum(unlinked_throughput) as unlinked_throughput,
        sum(tasks_created) as tasks_created,
        sum(wip_at_month_end) as wip_at_month_end

    from team_months
    group by month

),

-- tasks and teams known by the month's end: created in the month or before it, locally
known_by_month_end as (

    select
        months.month,
        count(*) as tasks_created_to_date,
        count(distinct task_calendar.team) as teams

    from months
    inner join task_calendar
        on months.month >= task_calendar.created_month
    group by months.month

),

outcome_statuses as (

    select
        months.month,
        count(*) as outcomes,
        sum(case when outcome_progress.status = 'off_track' then 1 else 0 end)
            as outcomes_off_track,
        sum(case when outcome_progress.status = 'at_risk' then 1 else 0 end)
            as outcomes_at_risk,
        sum(case when outcome_progress.status = 'no_data' then 1 else 0 end)
            as outcomes_no_data,
        sum(case when outcome_progress.status = 'on_track' then 1 else 0 end)
            as outcomes_on_track,
        sum(case when outcome_progress.status = 'achieved' then 1 else 0 end)
            as outcomes_achieved,
        sum(case when outcome_progress.status is null then 1 else 0 end)
            as outcomes_not_evaluated

    from months
    cross join outcomes
    left join outcome_progress
        on
            outcomes.outcome_id = outcome_progress.outcome_id
            and months.month = outcome_progress.month
    group by months.month

),

monthly_illusions as (

    select
        month,
        sum(case when is_productivity_illusion then 1 else 0 end) as productivity_illusions

    from execution_vs_delivery
    group by month

),

final as (

    select
        -- keys
        month_ends.month,
        month_ends.month_end_on,

        -- tasks and teams known by the month's end
        cast(coalesce(known_by_month_end.teams, 0) as bigint) as teams,
        cast(coalesce(known_by_month_end.tasks_created_to_date, 0) as bigint)
            as tasks_created_to_date,

        -- flow of the month
        cast(coalesce(team_totals.tasks_created, 0) as bigint) as tasks_created,
        cast(coalesce(team_totals.throughput, 0) as bigint) as throughput,
        cast(coalesce(team_totals.unlinked_throughput, 0) as bigint)
            as unlinked_throughput,
        cast(team_totals.unlinked_throughput as {{ type_double() }})
        / nullif(team_totals.throughput, 0) as unlinked_throughput_share,
        cast(coalesce(team_totals.wip_at_month_end, 0) as bigint) as wip_at_month_end,

        -- outcomes
        cast(coalesce(outcome_statuses.outcomes, 0) as bigint) as outcomes,
        cast(coalesce(outcome_statuses.outcomes_off_track, 0) as bigint) as outcomes_off_track,
        cast(coalesce(outcome_statuses.outcomes_at_risk, 0) as bigint) as outcomes_at_risk,
        cast(coalesce(outcome_statuses.outcomes_no_data, 0) as bigint) as outcomes_no_data,
        cast(coalesce(outcome_statuses.outcomes_on_track, 0) as bigint) as outcomes_on_track,
        cast(coalesce(outcome_statuses.outcomes_achieved, 0) as bigint) as outcomes_achieved,
        cast(coalesce(outcome_statuses.outcomes_not_evaluated, 0) as bigint)
            as outcomes_not_evaluated,
        cast(coalesce(monthly_illusions.productivity_illusions, 0) as bigint)
            as productivity_illusions

    from month_ends
    left join known_by_month_end
        on month_ends.month = known_by_month_end.month
    left join team_totals
        on month_ends.month = team_totals.month
    left join outcome_statuses
        on month_ends.month = outcome_statuses.month
    left join monthly_illusions
        on month_ends.month = monthly_illusions.month

)

select * from final
