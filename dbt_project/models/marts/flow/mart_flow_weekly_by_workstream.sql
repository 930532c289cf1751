-- One row per ISO week and workstream (grain: week_start x workstream_id): the measures of
-- mart_flow_weekly for the linked work of one workstream, whichever teams did it. Each task is
-- placed in the week of its own team's time zone (a Monday 00:00 completion in London and one in
-- New York each count in the week that their Monday starts). Every workstream with tasks has a
-- row for every week from its first task creation to the as_of week. Unlinked work (no
-- workstream) is measured in mart_unlinked_work, not here.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_localised_to_days') }}

),

workstream_tasks_in_local_time as (

    select
        tasks.*,
        cast(
            {{ dbt.date_trunc('week', utc_to_local_timestamp('tasks.started_at', 'teams.time_zone')) }}
            as date
        ) as started_week_start,
        cast(
            {{ dbt.date_trunc('week', utc_to_local_timestamp('tasks.completed_at', 'teams.time_zone')) }}
            as date
        ) as completed_week_start

    from tasks
    inner join teams
        on tasks.team = teams.team
    where tasks.workstream_id is not null

),

workstream_intervals as (

    select * from intervals
    where workstream_id is not null

),

calendar_bounds as (

    select
        min(first_day_covered) as first_day,
        {{ as_of_date() }} as last_day

    from workstream_intervals

),

calendar_days as (

    {{ calendar_days('calendar_bounds', 'first_day', 'last_day') }}

),

-- each workstream's days start on the local day its first task was created
workstream_first_days as (

    select
        workstream_id,
        min(first_day_covered) as first_day

    from workstream_intervals
    group by workstream_id

),

workstream_calendar as (

    select
        calendar_days.calendar_date as flow_date,
        workstream_first_days.workstream_id

    from calendar_days
    inner join workstream_first_days
        on calendar_days.calendar_date >= workstream_first_days.first_day

),

wip_changes as (

    {{ daily_task_count_changes(
        '(select * from workstream_intervals where is_wip_category)', ['workstream_id']
    ) }}

),

daily_wip as (

    select
        workstream_calendar.workstream_id,
        workstream_calendar.flow_date,
        sum(coalesce(wip_changes.task_count_change, 0)) over (
            partition by workstream_calendar.workstream_id
            order by workstream_calendar.flow_date
            rows between unbounded preceding and current row
        ) as wip_count

    from workstream_calendar
    left join wip_changes
        on
            workstream_calendar.workstream_id = wip_changes.workstream_id
            and workstream_calendar.flow_date = wip_changes.change_on

),

workstream_weeks as (

    select
        workstream_id,
        cast({{ dbt.date_trunc('week', 'flow_date') }} as date) as week_start,
        avg(wip_count) as avg_daily_wip

    from daily_wip
    group by workstream_id, cast({{ dbt.date_trunc('week', 'flow_date') }} as date)

),

completed as (

    select
        workstream_id,
        completed_week_start as week_start,
        flow_item_type,
        lead_time_days,
        cycle_time_days,
        active_time_days,
        blocked_time_days

    from workstream_tasks_in_local_time
    where is_completed

),

started as (

    select
        workstream_id,
        started_week_start as week_start

    from workstream_tasks_in_local_time
    where started_at is not null

),

{{ weekly_flow_measures(
    key='workstream_id', weeks='workstream_weeks', completed='completed', started='started'
) }}

select * from final
