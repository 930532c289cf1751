-- One row per started task: the time it spent active, waiting and blocked between started_at
-- and measured_until (completion, cancellation, or the end of the as_of day for an open task).
-- Interval parts outside that window do not count. The window splits into three parts that add
-- up to it (for a completed task, to its cycle time):
--   active  time in a status flagged is_active
--   wait    time in any other in_progress or waiting status (blocked statuses included)
--   other   time back in a todo status after a backward move, or in done before a reopen
-- Blocked time is time in a blocked status or inside a flag interval, counted once where they
-- overlap.
-- Incremental on DuckDB: a nightly build rebuilds the tasks of int_tasks_to_rebuild and the open
-- tasks, whose window ends with the as_of day (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key',
        ref('int_tasks_to_rebuild'),
        also=task_times_not_kept(ref('int_status_intervals_aggregated_to_tasks'))
    ) }}"
) }}

with

intervals as (

    select * from {{ ref('int_status_changes_windowed_to_intervals') }}

),

task_flags as (

    select * from {{ ref('stg_tracker__task_flags') }}

),

task_milestones as (

    select * from {{ ref('int_status_intervals_aggregated_to_tasks') }}
    where {{ is_task_without_rows('task_key') }}

),

team_days as (

    select * from {{ ref('int_team_days_joined_to_holidays') }}

),

task_windows as (

    select
        source,
        task_id,
        team,
        time_zone,
        started_at as window_start,
        measured_until as window_end

    from task_milestones
    where started_at is not null

),

intervals_clipped as (

    select
        intervals.source,
        intervals.task_id,
        task_windows.team,
        task_windows.time_zone,
        intervals.status_category,
        intervals.is_active,
        intervals.is_blocked,
        {{ clip_to_window(
            'intervals.entered_at', 'intervals.exited_at',
            'task_windows.window_start', 'task_windows.window_end'
        ) }}

    from intervals
    inner join task_windows
        on
            intervals.source = task_windows.source
            and intervals.task_id = task_windows.task_id

),

intervals_in_window as (

    select
        *,
        {{ duration_microseconds('clipped_start', 'clipped_end') }} as duration_microseconds

    from intervals_clipped
    where clipped_end > clipped_start

),

status_time as (

    select
        source,
        task_id,
        sum(case when is_active then duration_microseconds else 0 end) as active_microseconds,
        sum(
            case
                when not is_active and status_category in ('in_progress', 'waiting')
                    then duration_microseconds
                else 0
            end
        ) as wait_microseconds,
        sum(
            case
                when not is_active and status_category not in ('in_progress', 'waiting')
                    then duration_microseconds
                else 0
            end
        ) as other_microseconds

    from intervals_in_window
    group by source, task_id

),

active_intervals_local as (

    select
        source,
        task_id,
        team,
        {{ utc_to_local_timestamp('clipped_start', 'time_zone') }} as local_start,
        {{ utc_to_local_timestamp('clipped_end', 'time_zone') }} as local_end

    from intervals_in_window
    where is_active

),

active_intervals_on_business_days as (

    select
        active_intervals_local.source,
        active_intervals_local.task_id,
        {{ business_microseconds_position('active_intervals_local.local_end', 'end_days') }}
        - {{ business_microseconds_position('active_intervals_local.local_start', 'start_days') }}
            as business_microseconds

    from active_intervals_local
    inner join team_days as start_days
        on
            active_intervals_local.team = start_days.team
            and cast(active_intervals_local.local_start as date) = start_days.calendar_date
    inner join team_days as end_days
        on
            active_intervals_local.team = end_days.team
            and cast(active_intervals_local.local_end as date) = end_days.calendar_date

),

active_business_time as (

    select
        source,
        task_id,
        sum(business_microseconds) as active_business_microseconds

    from active_intervals_on_business_days
    group by source, task_id

),

flags_clipped as (

    select
        task_flags.source,
        task_flags.task_id,
        {{ clip_to_window(
            'task_flags.flagged_at', 'task_flags.unflagged_at',
            'task_windows.window_start', 'task_windows.window_end'
        ) }}

    from task_flags
    inner join task_windows
        on
            task_flags.source = task_windows.source
            and task_flags.task_id = task_windows.task_id

),

blocked_segments as (

    select
        source,
        task_id,
        clipped_start,
        clipped_end

    from intervals_in_window
    where is_blocked

    union all

    select
        source,
        task_id,
        clipped_start,
        clipped_end

    from flags_clipped
    where clipped_end > clipped_start

),

-- overlapping segments merge into islands: a segment starts a new island when it begins after
-- every earlier segment of the task has ended
blocked_segments_marked as (

    select
        *,
        case
            when
                max(clipped_end) over (
                    partition by source, task_id
                    order by clipped_start, clipped_end
                    rows between unbounded preceding and 1 preceding
                ) >= clipped_start
                then 0
            else 1
        end as starts_island

    from blocked_segments

),

blocked_segments_numbered as (

    select
        *,
        sum(starts_island) over (
            partition by source, task_id
            order by clipped_start, clipped_end
            rows between unbounded preceding and current row
        ) as island_number

    from blocked_segments_marked

),

blocked_islands as (

    select
        source,
        task_id,
        min(clipped_start) as island_start,
        max(clipped_end) as island_end

    from blocked_segments_numbered
    group by source, task_id, island_number

),

blocked_time as (

    select
        source,
        task_id,
        sum({{ duration_microseconds('island_start', 'island_end') }}) as blocked_microseconds

    from blocked_islands
    group by source, task_id

),

final as (

    select
        -- keys
        task_windows.source || ':' || task_windows.task_id as task_key,
        task_windows.source,
        task_windows.task_id,

        -- time sums, in days, over started_at to measured_until
        {{ microseconds_to_days('coalesce(status_time.active_microseconds, 0)') }}
            as active_time_days,
        {{ microseconds_to_days('coalesce(status_time.wait_microseconds, 0)') }}
            as wait_time_days,
        {{ microseconds_to_days('coalesce(status_time.other_microseconds, 0)') }}
            as other_time_days,
        {{ microseconds_to_days('coalesce(blocked_time.blocked_microseconds, 0)') }}
            as blocked_time_days,
        {{ microseconds_to_days('coalesce(active_business_time.active_business_microseconds, 0)') }}
            as active_time_business_days

    from task_windows
    left join status_time
        on
            task_windows.source = status_time.source
            and task_windows.task_id = status_time.task_id
    left join blocked_time
        on
            task_windows.source = blocked_time.source
            and task_windows.task_id = blocked_time.task_id
    left join active_business_time
        on
            task_windows.source = active_business_time.source
            and task_windows.task_id = active_business_time.task_id

)

select * from final
