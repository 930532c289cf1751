-- One row per task in WIP at the end of the as_of day (grain: task_key): how old it is, how
-- that age compares with what its team usually takes, how long it has been blocked, and where it
-- sits. A task is in WIP when the status it was in at the end of the as_of day, in its team's
-- time zone, is in_progress or waiting. Its age runs from started_at (the commitment point) to
-- that day end. The aging band places the age against the cycle-time percentiles of the team's
-- completions of the trailing window (var trailing_window_days, 90 by default: completed_at in
-- the days ending with the as_of day, int_team_cycle_times_windowed_to_percentiles):
-- below_p50, p50_p85, p85_p95, above_p95 (each band includes its lower bound); null when the
-- team completed nothing with a cycle time in that window.
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

team_percentiles as (

    select * from {{ ref('int_team_cycle_times_windowed_to_percentiles') }}

),

-- the end of the as_of day depends only on the time zone: converted once per team
team_day_ends as (

    select
        team,
        {{ as_of_day_end_utc('time_zone') }} as as_of_day_end_at

    from teams

),

statuses_at_day_end as (

    select
        intervals.task_key,
        intervals.status,
        intervals.status_category,
        intervals.workflow_column,
        intervals.is_blocked,
        intervals.entered_at,
        team_day_ends.as_of_day_end_at

    from intervals
    inner join team_day_ends
        on intervals.team = team_day_ends.team
    where
        intervals.entered_at < team_day_ends.as_of_day_end_at
        and (intervals.exited_at is null or intervals.exited_at >= team_day_ends.as_of_day_end_at)

),

wip_tasks as (

    select
        tasks.*,
        statuses_at_day_end.status as status_at_as_of,
        statuses_at_day_end.status_category as status_category_at_as_of,
        statuses_at_day_end.workflow_column,
        statuses_at_day_end.is_blocked as is_in_blocked_status,
        statuses_at_day_end.entered_at as status_entered_at,
        statuses_at_day_end.as_of_day_end_at

    from tasks
    inner join statuses_at_day_end
        on tasks.task_key = statuses_at_day_end.task_key
    where statuses_at_day_end.status_category in ('in_progress', 'waiting')

),

-- the team's cycle-time percentiles of the trailing window ending with the as_of day
team_cycle_time_percentiles as (

    select * from team_percentiles
    where evaluated_on = {{ as_of_date() }}

),

aged as (

    select
        wip_tasks.*,
        {{ duration_days('wip_tasks.started_at', 'wip_tasks.as_of_day_end_at') }} as age_days,
        {{ duration_days('wip_tasks.status_entered_at', 'wip_tasks.as_of_day_end_at') }}
            as days_in_status,
        team_cycle_time_percentiles.reference_completions,
        team_cycle_time_percentiles.cycle_time_p50_days,
        team_cycle_time_percentiles.cycle_time_p85_days,
        team_cycle_time_percentiles.cycle_time_p95_days

    from wip_tasks
    left join team_cycle_time_percentiles
        on wip_tasks.team = team_cycle_time_percentiles.team

),

final as (

    select
        -- keys
        task_key,
        source,
        task_id,

        -- descriptors
        title,
        team,
        task_type,
        flow_item_type,
        status_at_as_of as current_status,
        status_category_at_as_of as current_category,
        workflow_column,
        workstream_id,
        outcome_id,
        is_linked,

        -- age
        {{ as_of_date() }} as as_of_date,
        started_at,
        age_days,
        days_in_status,

        -- aging risk against the team's trailing 90 days
        case
            when cycle_time_p50_days is null then null
            when age_days < cycle_time_p50_days then 'below_p50'
            when age_days < cycle_time_p85_days then 'p50_p85'
            when age_days < cycle_time_p95_days then 'p85_p95'
            else 'above_p95'
        end as aging_band,
        cast(coalesce(reference_completions, 0) as bigint) as reference_completions,
        cycle_time_p50_days,
        cycle_time_p85_days,
        cycle_time_p95_days,

        -- blocked
        blocked_time_days as blocked_days,
        is_in_blocked_status,
        reopen_count

    from aged

)

select * from final
