-- One row per ISO week and team (grain: week_start x team): throughput, arrivals, net flow,
-- lead and cycle time percentiles (of the week's completions, and of the trailing 12 weeks'),
-- average daily WIP, flow efficiency, flow distribution and blocked days. Weeks start on Monday
-- in the team's time zone and are half-open: a task completed at 00:00 on a Monday counts in the
-- week that Monday starts. Every team has a row for every week from its first task creation to
-- the as_of week, zero throughput included. mart_flow_weekly_by_workstream is the same per
-- workstream.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

daily_flow as (

    select * from {{ ref('fct_daily_flow') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

tasks_in_local_time as (

    select
        tasks.*,
        {{ utc_to_local_timestamp('tasks.started_at', 'teams.time_zone') }} as started_at_local,
        {{ utc_to_local_timestamp('tasks.completed_at', 'teams.time_zone') }} as completed_at_local

    from tasks
    inner join teams
        on tasks.team = teams.team

),

-- local dates only move forward with time, so the first week is converted per team, not per task
team_first_weeks as (

    select
        tasks.team,
        cast(
            {{ dbt.date_trunc(
                'week', utc_to_local_timestamp('min(tasks.created_at)', 'teams.time_zone')
            ) }} as date
        ) as first_week_start

    from tasks
    inner join teams
        on tasks.team = teams.team
    group by tasks.team, teams.time_zone

),

daily_wip as (

    select
        team,
        flow_date,
        cast({{ dbt.date_trunc('week', 'flow_date') }} as date) as week_start,
        sum(case when is_wip_category then task_count else 0 end) as wip_count

    from daily_flow
    group by team, flow_date

),

-- the weeks come from the daily calendar, so they end with the as_of week
team_weeks as (

    select
        daily_wip.team,
        daily_wip.week_start,
        avg(daily_wip.wip_count) as avg_daily_wip

    from daily_wip
    inner join team_first_weeks
        on
            daily_wip.team = team_first_weeks.team
            and daily_wip.week_start >= team_first_weeks.first_week_start
    group by daily_wip.team, daily_wip.week_start

),

completions as (

    select
        team,
        cast({{ dbt.date_trunc('week', 'completed_at_local') }} as date) as week_start,
        flow_item_type,
        lead_time_days,
        cycle_time_days,
        -- whole microseconds, summed exactly whatever the order of addition
        {{ days_to_microseconds('cycle_time_days') }} as cycle_time_microseconds,
        case
            when cycle_time_days is not null then {{ days_to_microseconds('active_time_days') }}
        end as active_time_microseconds,
        {{ days_to_microseconds('blocked_time_days') }} as blocked_time_microseconds

    from tasks_in_local_time
    where is_completed

),

weekly_completions as (

    select
        team,
        week_start,
        count(*) as throughput,
        {{ flow_time_percentiles() }},
        -- ratio of sums over the completions that have a cycle time
        sum(active_time_microseconds) as active_time_microseconds,
        sum(cycle_time_microseconds) as cycle_time_microseconds,
        sum(blocked_time_microseconds) as blocked_time_microseconds,
        sum(case when flow_item_type = 'feature' then 1 else 0 end) as feature_throughput,
        sum(case when flow_item_type = 'defect' then 1 else 0 end) as defect_throughput,
        sum(case when flow_item_type = 'debt' then 1 else 0 end) as debt_throughput,
        sum(case when flow_item_type = 'risk' then 1 else 0 end) as risk_throughput

    from completions
    group by team, week_start

),

-- the same percentiles over the completions of the week and the eleven weeks before it: a
-- steadier signal than one week's handful of completions
trailing_completions as (

    select
        team_weeks.team,
        team_weeks.week_start,
        {{ flow_time_percentiles('_trailing_12w') }}

    from team_weeks
    inner join completions
        on
            team_weeks.team = completions.team
            and team_weeks.week_start >= completions.week_start
            and team_weeks.week_start < {{ dbt.dateadd('week', 12, 'completions.week_start') }}
    group by team_weeks.team, team_weeks.week_start

),

weekly_arrivals as (

    select
        team,
        cast({{ dbt.date_trunc('week', 'started_at_local') }} as date) as week_start,
        count(*) as arrivals

    from tasks_in_local_time
    where started_at is not null
    group by team, cast({{ dbt.date_trunc('week', 'started_at_local') }} as date)

),

final as (

    select
        -- keys
        team_weeks.week_start,
        team_weeks.team,

        -- flow
        cast(coalesce(weekly_completions.throughput, 0) as bigint) as throughput,
        cast(coalesce(weekly_arrivals.arrivals, 0) as bigint) as arrivals,
        cast(
            coalesce(weekly_arrivals.arrivals, 0) - coalesce(weekly_completions.throughput, 0)
            as bigint
        ) as net_flow,

        -- lead and cycle time percentiles, in days
        weekly_completions.lead_time_p50_days,
        weekly_completions.lead_time_p85_days,
        weekly_completions.lead_time_p95_days,
        weekly_completions.cycle_time_p50_days,
        weekly_completions.cycle_time_p85_days,
        weekly_completions.cycle_time_p95_days,
        trailing_completions.lead_time_p50_days_trailing_12w,
        trailing_completions.lead_time_p85_days_trailing_12w,
        trailing_completions.lead_time_p95_days_trailing_12w,
        trailing_completions.cycle_time_p50_days_trailing_12w,
        trailing_completions.cycle_time_p85_days_trailing_12w,
        trailing_completions.cycle_time_p95_days_trailing_12w,

        -- work in progress and efficiency
        cast(team_weeks.avg_daily_wip as double) as avg_daily_wip,
        case
            when weekly_completions.cycle_time_microseconds > 0
                then
                    cast(weekly_completions.active_time_microseconds as double)
                    / weekly_completions.cycle_time_microseconds
        end as flow_efficiency,

        -- flow distribution
        cast(coalesce(weekly_completions.feature_throughput, 0) as bigint) as feature_throughput,
        cast(coalesce(weekly_completions.defect_throughput, 0) as bigint) as defect_throughput,
        cast(coalesce(weekly_completions.debt_throughput, 0) as bigint) as debt_throughput,
        cast(coalesce(weekly_completions.risk_throughput, 0) as bigint) as risk_throughput,
        {% for flow_item_type in ['feature', 'defect', 'debt', 'risk'] -%}
            cast(weekly_completions.{{ flow_item_type }}_throughput as double)
            / nullif(weekly_completions.throughput, 0) as {{ flow_item_type }}_share,
        {% endfor %}
        -- blocked time carried by the week's completions
        {{ microseconds_to_days('coalesce(weekly_completions.blocked_time_microseconds, 0)') }}
            as blocked_days

    from team_weeks
    left join weekly_completions
        on
            team_weeks.team = weekly_completions.team
            and team_weeks.week_start = weekly_completions.week_start
    left join trailing_completions
        on
            team_weeks.team = trailing_completions.team
            and team_weeks.week_start = trailing_completions.week_start
    left join weekly_arrivals
        on
            team_weeks.team = weekly_arrivals.team
            and team_weeks.week_start = weekly_arrivals.week_start

)

select * from final
