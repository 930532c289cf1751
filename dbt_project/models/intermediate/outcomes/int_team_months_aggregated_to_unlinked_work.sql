-- One row per calendar month and team (grain: month x team): how much of the team's
-- delivery reached no outcome (docs/metrics.md, "Unlinked work"), as a share of throughput and of
-- active time, with the unlinked tasks created in the month and in WIP at its end. Unlinked means
-- `not is_linked` in fct_tasks: no workstream of its own and no matching rule, or a workstream
-- whose outcome is not defined. Months are the team's local calendar months, half-open, placed
-- by int_task_milestones_localised_to_calendar as for mart_quality_monthly: every team has a row for every month from its first task creation to the
-- as_of month, and the month's throughput equals mart_quality_monthly's.
with

tasks as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_measured_to_as_of') }}

),

teams as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

),

team_months as (

    select * from {{ ref('int_team_months_spined') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

tasks_in_local_months as (

    select
        tasks.task_key,
        tasks.team,
        tasks.is_completed,
        not tasks.is_linked as is_unlinked,
        tasks.active_time_days,
        task_calendar.created_month,
        task_calendar.completed_month

    from tasks
    inner join task_calendar
        on tasks.task_key = task_calendar.task_key

),

-- a month's WIP is counted at the end of its last day, or of the as_of day for the month still
-- in progress, in the team's time zone (as fct_daily_flow counts a day)
team_month_ends as (

    select
        team_months.team,
        team_months.month,
        {{ local_to_utc_timestamp(
            'cast(' ~ dbt.dateadd(
                'day', 1,
                'least(' ~ dbt.last_day('team_months.month', 'month') ~ ', ' ~ as_of_date() ~ ')'
            ) ~ ' as timestamp)',
            'teams.time_zone'
        ) }} as month_end_at

    from team_months
    inner join teams
        on team_months.team = teams.team

),

monthly_completions as (

    select
        team,
        completed_month as month,
        count(*) as throughput,
        sum(case when is_unlinked then 1 else 0 end) as unlinked_throughput,
        -- whole microseconds, so that the sum does not depend on the order of addition
        sum({{ days_to_microseconds('active_time_days') }}) as active_time_microseconds,
        sum(
            case when is_unlinked then {{ days_to_microseconds('active_time_days') }} else 0 end
        ) as unlinked_active_time_microseconds

    from tasks_in_local_months
    where is_completed
    group by team, completed_month

),

monthly_creations as (

    select
        team,
        created_month as month,
        count(*) as tasks_created,
        sum(case when is_unlinked then 1 else 0 end) as unlinked_tasks_created

    from tasks_in_local_months
    group by team, created_month

),

wip_at_month_ends as (

    select
        team_month_ends.team,
        team_month_ends.month,
        count(*) as wip_at_month_end,
        sum(case when tasks_in_local_months.is_unlinked then 1 else 0 end)
            as unlinked_wip_at_month_end

    from team_month_ends
    inner join intervals
        on
            team_month_ends.team = intervals.team
            and team_month_ends.month_end_at > intervals.entered_at
            and (intervals.exited_at is null or team_month_ends.month_end_at <= intervals.exited_at)
    inner join tasks_in_local_months
        on intervals.task_key = tasks_in_local_months.task_key
    where intervals.status_category in ('in_progress', 'waiting')
    group by team_month_ends.team, team_month_ends.month

),

final as (

    select
        -- keys
        team_months.month,
        team_months.team,

        -- throughput
        cast(coalesce(monthly_completions.throughput, 0) as bigint) as throughput,
        cast(coalesce(monthly_completions.unlinked_throughput, 0) as bigint)
            as unlinked_throughput,
        cast(monthly_completions.unlinked_throughput as {{ type_double() }})
        / nullif(monthly_completions.throughput, 0) as unlinked_throughput_share,

        -- active time of the month's completions
        cast(
            {{ microseconds_to_days('coalesce(monthly_completions.active_time_microseconds, 0)') }}
            as {{ type_double() }}
        ) as active_time_days,
        cast(
            {{ microseconds_to_days(
                'coalesce(monthly_completions.unlinked_active_time_microseconds, 0)'
            ) }}
            as {{ type_double() }}
        ) as unlinked_active_time_days,
        cast(monthly_completions.unlinked_active_time_microseconds as {{ type_double() }})
        / nullif(monthly_completions.active_time_microseconds, 0) as unlinked_active_time_share,

        -- arrivals of work
        cast(coalesce(monthly_creations.tasks_created, 0) as bigint) as tasks_created,
        cast(coalesce(monthly_creations.unlinked_tasks_created, 0) as bigint)
            as unlinked_tasks_created,

        -- work in progress at the month's end
        cast(coalesce(wip_at_month_ends.wip_at_month_end, 0) as bigint) as wip_at_month_end,
        cast(coalesce(wip_at_month_ends.unlinked_wip_at_month_end, 0) as bigint)
            as unlinked_wip_at_month_end

    from team_months
    left join monthly_completions
        on
            team_months.team = monthly_completions.team
            and team_months.month = monthly_completions.month
    left join monthly_creations
        on
            team_months.team = monthly_creations.team
            and team_months.month = monthly_creations.month
    left join wip_at_month_ends
        on
            team_months.team = wip_at_month_ends.team
            and team_months.month = wip_at_month_ends.month

)

select * from final
