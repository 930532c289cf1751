-- One row per task and status interval (grain: task_key x interval_index): what status a task
-- was in, from when until when. Built from the ordered status changes; the current interval is
-- open and measured to the end of the as_of day in the team's time zone.
-- Incremental on DuckDB: a nightly build rebuilds the intervals of int_tasks_to_rebuild and every
-- task's current interval, which runs to the as_of day (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key', ref('int_tasks_to_rebuild'), also=is_current_interval()
    ) }}"
) }}

with

intervals as (

    select * from {{ ref('int_status_changes_windowed_to_intervals') }}
    where
        {{ is_task_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}
        or {{ is_current_interval() }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

-- the end of the as_of day depends only on the time zone: converted once per zone
time_zone_day_ends as (

    select
        time_zone,
        {{ as_of_day_end_utc('time_zone') }} as as_of_day_end_at

    from (select distinct time_zone from task_teams) as time_zones

),

intervals_measured as (

    select
        intervals.*,
        task_teams.team,
        coalesce(intervals.exited_at, time_zone_day_ends.as_of_day_end_at) as measured_until

    from intervals
    inner join task_teams
        on intervals.task_key = task_teams.task_key
    inner join time_zone_day_ends
        on task_teams.time_zone = time_zone_day_ends.time_zone

),

final as (

    select
        -- keys
        task_key,
        source,
        task_id,
        team,
        cast(interval_index as integer) as interval_index,

        -- status
        status,
        status_category,
        workflow_column,
        cast(workflow_column_order as integer) as workflow_column_order,
        is_active,
        is_blocked,

        -- timestamps (UTC)
        entered_at,
        exited_at,

        -- measures; an interval entered after the as_of day has lasted no time yet
        case
            when measured_until > entered_at
                then {{ duration_days('entered_at', 'measured_until') }}
            else 0.0
        end as duration_days,
        exited_at is null as is_current,

        -- lineage: the landing file and record that say the interval began
        source_file,
        cast(source_row as {{ dbt.type_bigint() }}) as source_row

    from intervals_measured

)

select * from final
