-- One row per task: its milestones (docs/metrics.md, "Milestones") and the window its time is
-- measured over.
--   started_at          first entry into an in_progress or waiting status (the commitment point)
--   first_completed_at  first entry into a done status
--   completed_at        last entry into the done category, only if the task is done now; moving
--                       from one done status to another (Resolved -> Closed) is not a new entry
--   cancelled_at        entry into the cancelled category, only if the task is cancelled now
--   reopen_count        times the task went back to work (a status neither done nor cancelled)
--                       from done, or from cancelled after it had been done: a return to work
--                       through a cancelled status is a reopen too
--   measured_until      completed_at, cancelled_at, or for an open task the end of the as_of day
--                       in the team's time zone: time sums run from started_at to here
-- Each milestone also gets its position, in microseconds, on the team's business-day calendar:
-- the difference of two positions is the business time between them.
-- Incremental on DuckDB: a nightly build rebuilds the tasks of int_tasks_to_rebuild, the open
-- tasks, and every task when the calendar starts on another day
-- (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key',
        ref('int_tasks_to_rebuild'),
        also=task_milestones_not_kept(ref('int_team_days_joined_to_holidays'))
    ) }}"
) }}

with

intervals as (

    select * from {{ ref('int_status_changes_windowed_to_intervals') }}
    where {{ is_task_without_rows('task_key') }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}
    where {{ is_task_without_rows('task_key') }}

),

team_days as (

    select * from {{ ref('int_team_days_joined_to_holidays') }}

),

intervals_with_previous as (

    select
        *,
        lag(status_category) over (
            partition by source, task_id
            order by interval_index
        ) as previous_category,
        coalesce(max(case when status_category = 'done' then 1 else 0 end) over (
            partition by source, task_id
            order by interval_index
            rows between unbounded preceding and 1 preceding
        ), 0) = 1 as was_done_before

    from intervals

),

milestones as (

    select
        source,
        task_id,
        max(case when is_current then status_category end) as current_category,
        min(entered_at) as created_at,
        min(
            case when status_category in ('in_progress', 'waiting') then entered_at end
        ) as started_at,
        min(case when status_category = 'done' then entered_at end) as first_completed_at,
        max(
            case
                when status_category = 'done' and previous_category is distinct from 'done'
                    then entered_at
            end
        ) as last_entered_done_at,
        max(
            case
                when
                    status_category = 'cancelled'
                    and previous_category is distinct from 'cancelled'
                    then entered_at
            end
        ) as last_entered_cancelled_at,
        sum(
            case
                when
                    was_done_before
                    and previous_category in ('done', 'cancelled')
                    and status_category not in ('done', 'cancelled')
                    then 1
                else 0
            end
        ) as reopen_count

    from intervals_with_previous
    group by source, task_id

),

-- the end of the as_of day depends only on the time zone: converted once per zone
time_zone_day_ends as (

    select
        time_zone,
        {{ as_of_day_end_utc('time_zone') }} as as_of_day_end_at

    from (select distinct time_zone from task_teams) as time_zones

),

milestones_of_current_state as (

    select
        milestones.source,
        milestones.task_id,
        task_teams.team,
        task_teams.time_zone,
        milestones.current_category,
        milestones.created_at,
        milestones.started_at,
        milestones.first_completed_at,
        case
            when milestones.current_category = 'done' then milestones.last_entered_done_at
        end as completed_at,
        case
            when milestones.current_category = 'cancelled'
                then milestones.last_entered_cancelled_at
        end as cancelled_at,
        milestones.reopen_count,
        time_zone_day_ends.as_of_day_end_at

    from milestones
    inner join task_teams
        on
            milestones.source = task_teams.source
            and milestones.task_id = task_teams.task_id
    inner join time_zone_day_ends
        on task_teams.time_zone = time_zone_day_ends.time_zone

),

milestones_local as (

    select
        *,
        coalesce(completed_at, cancelled_at, as_of_day_end_at) as measured_until,
        {{ utc_to_local_timestamp('created_at', 'time_zone') }} as created_at_local,
        {{ utc_to_local_timestamp('started_at', 'time_zone') }} as started_at_local,
        {{ utc_to_local_timestamp('first_completed_at', 'time_zone') }} as first_completed_at_local,
        {{ utc_to_local_timestamp('completed_at', 'time_zone') }} as completed_at_local

    from milestones_of_current_state

),

final as (

    select
        -- keys
        milestones_local.source || ':' || milestones_local.task_id as task_key,
        milestones_local.source,
        milestones_local.task_id,

        -- state
        milestones_local.team,
        milestones_local.time_zone,
        milestones_local.current_category,

        -- milestones (UTC)
        milestones_local.created_at,
        milestones_local.started_at,
        milestones_local.first_completed_at,
        milestones_local.completed_at,
        milestones_local.cancelled_at,
        milestones_local.measured_until,

        -- rework
        milestones_local.reopen_count,

        -- the first day of the business-day calendar the positions below count from
        (select min(team_days.calendar_date) from team_days) as business_calendar_starts_on,

        -- positions on the team's business-day calendar, in microseconds
        {{ business_microseconds_position('milestones_local.created_at_local', 'created_days') }}
            as created_business_microseconds,
        {{ business_microseconds_position('milestones_local.started_at_local', 'started_days') }}
            as started_business_microseconds,
        {{ business_microseconds_position('milestones_local.first_completed_at_local', 'first_completed_days') }}
            as first_completed_business_microseconds,
        {{ business_microseconds_position('milestones_local.completed_at_local', 'completed_days') }}
            as completed_business_microseconds

    from milestones_local
    left join team_days as created_days
        on
            milestones_local.team = created_days.team
            and cast(milestones_local.created_at_local as date) = created_days.calendar_date
    left join team_days as started_days
        on
            milestones_local.team = started_days.team
            and cast(milestones_local.started_at_local as date) = started_days.calendar_date
    left join team_days as first_completed_days
        on
            milestones_local.team = first_completed_days.team
            and cast(milestones_local.first_completed_at_local as date)
            = first_completed_days.calendar_date
    left join team_days as completed_days
        on
            milestones_local.team = completed_days.team
            and cast(milestones_local.completed_at_local as date) = completed_days.calendar_date

)

select * from final
