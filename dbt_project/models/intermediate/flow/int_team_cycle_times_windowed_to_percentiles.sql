-- One row per team × evaluation day (grain: team, evaluated_on): the cycle-time percentiles of
-- the team's completions in the trailing window ending with the day, the one definition of
-- "what the team usually takes" that every aging figure reads. The days are those the
-- warehouse judges work on: the last day of each of the team's local months
-- (int_team_months_spined) and, for the month in progress, the as_of day. A completion counts
-- when it happened before the end of the day in the team's time zone and no more than
-- var trailing_window_days (90 by default) before it; a task without a cycle time (done
-- without a start, or through an inferred transition) is no reference. A team that completed
-- nothing with a cycle time in the window has no percentiles.
with

team_months as (

    select * from {{ ref('int_team_months_spined') }}

),

teams as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

),

tasks as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}

),

evaluation_days as (

    select
        team,
        cast(
            least({{ dbt.last_day('month', 'month') }}, {{ as_of_date() }}) as date
        ) as evaluated_on

    from team_months

),

-- the end of an evaluation day in the team's time zone, as a UTC instant
evaluation_day_ends as (

    select
        evaluation_days.team,
        evaluation_days.evaluated_on,
        {{ local_to_utc_timestamp(
            'cast(' ~ dbt.dateadd('day', 1, 'evaluation_days.evaluated_on') ~ ' as timestamp)',
            'teams.time_zone'
        ) }} as evaluation_day_end_at

    from evaluation_days
    inner join teams
        on evaluation_days.team = teams.team

),

reference_completions as (

    select
        evaluation_day_ends.team,
        evaluation_day_ends.evaluated_on,
        tasks.cycle_time_days

    from evaluation_day_ends
    inner join tasks
        on
            evaluation_day_ends.team = tasks.team
            and evaluation_day_ends.evaluation_day_end_at > tasks.completed_at
            and {{ dbt.dateadd('day', -var('trailing_window_days'), 'evaluation_day_ends.evaluation_day_end_at') }}
            <= tasks.completed_at
    where tasks.cycle_time_days is not null

),

team_cycle_time_percentiles as (

    select
        team,
        evaluated_on,
        count(*) as reference_completions,
        {{ percentile_continuous('cycle_time_days', 0.5) }} as cycle_time_p50_days,
        {{ percentile_continuous('cycle_time_days', 0.85) }} as cycle_time_p85_days,
        {{ percentile_continuous('cycle_time_days', 0.95) }} as cycle_time_p95_days

    from reference_completions
    group by team, evaluated_on

),

final as (

    select
        -- keys
        evaluation_day_ends.team,
        evaluation_day_ends.evaluated_on,

        -- the instant the window ends
        evaluation_day_ends.evaluation_day_end_at,

        -- the team's completions of the window and their cycle-time percentiles
        cast(coalesce(team_cycle_time_percentiles.reference_completions, 0) as bigint)
            as reference_completions,
        team_cycle_time_percentiles.cycle_time_p50_days,
        team_cycle_time_percentiles.cycle_time_p85_days,
        team_cycle_time_percentiles.cycle_time_p95_days

    from evaluation_day_ends
    left join team_cycle_time_percentiles
        on
            evaluation_day_ends.team = team_cycle_time_percentiles.team
            and evaluation_day_ends.evaluated_on = team_cycle_time_percentiles.evaluated_on

)

select * from final
