-- One row per calendar month (grain: month_start): the organisation's numbers for the month, as
-- the report's headline shows them. Every count over tasks is the sum over teams of the team's
-- own local calendar month (half-open, like mart_quality_monthly and mart_unlinked_work), so
-- `throughput` equals the sum of those marts' `throughput` over teams; a UTC month would move a
-- completion near midnight into the neighbouring month for every team away from UTC. WIP is
-- counted at the end of the month's last day, or of the as_of day for the month in progress, in
-- each team's time zone (as fct_daily_flow counts a day). Outcome statuses are those of
-- mart_outcome_progress for the month; an outcome without a row for the month is not evaluated.
-- Months are those of any team (int_team_months_spined) or outcome, and the as_of month always.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

team_months as (

    select * from {{ ref('int_team_months_spined') }}

),

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

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

    select month_start from team_months

    union

    select month as month_start from outcome_progress

    union

    select {{ month_start(as_of_date()) }} as month_start

),

month_ends as (

    select
        month_start,
        cast(
            least({{ dbt.last_day('month_start', 'month') }}, {{ as_of_date() }}) as date
        ) as month_end_on

    from months

),

tasks_in_local_months as (

    select
        tasks.task_key,
        tasks.team,
        tasks.is_completed,
        not tasks.is_linked as is_unlinked,
        {{ month_start(utc_to_local_timestamp('tasks.created_at', 'teams.time_zone')) }}
            as created_month_start,
        {{ month_start(utc_to_local_timestamp('tasks.completed_at', 'teams.time_zone')) }}
            as completed_month_start

    from tasks
    inner join teams
        on tasks.team = teams.team

),

monthly_completions as (

    select
        completed_month_start as month_start,
        count(*) as throughput,
        sum(case when is_unlinked then 1 else 0 end) as unlinked_throughput

    from tasks_in_local_months
    where is_completed
    group by completed_month_start

),

monthly_creations as (

    select
        created_month_start as month_start,
        count(*) as tasks_created

    from tasks_in_local_months
    group by created_month_start

),

-- tasks and teams known by the month's end: created in the month or before it
known_by_month_end as (

    select
        months.month_start,
        count(*) as tasks_created_to_date,
        count(distinct tasks_in_local_months.team) as teams

    from months
    inner join tasks_in_local_months
        on months.month_start >= tasks_in_local_months.created_month_start
    group by months.month_start

),

wip_at_month_ends as (

    select
        month_ends.month_start,
        sum(daily_flow.task_count) as wip_at_month_end

    from month_ends
    inner join daily_flow
        on month_ends.month_end_on = daily_flow.flow_date
    where daily_flow.is_wip_category
    group by month_ends.month_start

),

outcome_statuses as (

    select
        months.month_start,
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
            and months.month_start = outcome_progress.month
    group by months.month_start

),

monthly_illusions as (

    select
        month as month_start,
        sum(case when is_productivity_illusion then 1 else 0 end) as productivity_illusions

    from execution_vs_delivery
    group by month

),

final as (

    select
        -- keys
        month_ends.month_start,
        month_ends.month_end_on,

        -- tasks and teams known by the month's end
        cast(coalesce(known_by_month_end.teams, 0) as bigint) as teams,
        cast(coalesce(known_by_month_end.tasks_created_to_date, 0) as bigint)
            as tasks_created_to_date,

        -- flow of the month
        cast(coalesce(monthly_creations.tasks_created, 0) as bigint) as tasks_created,
        cast(coalesce(monthly_completions.throughput, 0) as bigint) as throughput,
        cast(coalesce(monthly_completions.unlinked_throughput, 0) as bigint)
            as unlinked_throughput,
        cast(monthly_completions.unlinked_throughput as {{ type_double() }})
        / nullif(monthly_completions.throughput, 0) as unlinked_throughput_share,
        cast(coalesce(wip_at_month_ends.wip_at_month_end, 0) as bigint) as wip_at_month_end,

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
        on month_ends.month_start = known_by_month_end.month_start
    left join monthly_creations
        on month_ends.month_start = monthly_creations.month_start
    left join monthly_completions
        on month_ends.month_start = monthly_completions.month_start
    left join wip_at_month_ends
        on month_ends.month_start = wip_at_month_ends.month_start
    left join outcome_statuses
        on month_ends.month_start = outcome_statuses.month_start
    left join monthly_illusions
        on month_ends.month_start = monthly_illusions.month_start

)

select * from final
