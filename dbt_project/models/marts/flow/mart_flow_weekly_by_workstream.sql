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

completions as (

    select
        workstream_id,
        completed_week_start as week_start,
        flow_item_type,
        lead_time_days,
        cycle_time_days,
        -- whole microseconds, summed exactly whatever the order of addition
        {{ days_to_microseconds('cycle_time_days') }} as cycle_time_microseconds,
        case
            when cycle_time_days is not null then {{ days_to_microseconds('active_time_days') }}
        end as active_time_microseconds,
        {{ days_to_microseconds('blocked_time_days') }} as blocked_time_microseconds

    from workstream_tasks_in_local_time
    where is_completed

),

weekly_completions as (

    select
        workstream_id,
        week_start,
        count(*) as throughput,
        {{ flow_time_percentiles() }},
        sum(active_time_microseconds) as active_time_microseconds,
        sum(cycle_time_microseconds) as cycle_time_microseconds,
        sum(blocked_time_microseconds) as blocked_time_microseconds,
        sum(case when flow_item_type = 'feature' then 1 else 0 end) as feature_throughput,
        sum(case when flow_item_type = 'defect' then 1 else 0 end) as defect_throughput,
        sum(case when flow_item_type = 'debt' then 1 else 0 end) as debt_throughput,
        sum(case when flow_item_type = 'risk' then 1 else 0 end) as risk_throughput

    from completions
    group by workstream_id, week_start

),

trailing_completions as (

    select
        workstream_weeks.workstream_id,
        workstream_weeks.week_start,
        {{ flow_time_percentiles('_trailing_12w') }}

    from workstream_weeks
    inner join completions
        on
            workstream_weeks.workstream_id = completions.workstream_id
            and workstream_weeks.week_start >= completions.week_start
            and workstream_weeks.week_start < {{ dbt.dateadd('week', 12, 'completions.week_start') }}
    group by workstream_weeks.workstream_id, workstream_weeks.week_start

),

weekly_arrivals as (

    select
        workstream_id,
        started_week_start as week_start,
        count(*) as arrivals

    from workstream_tasks_in_local_time
    where started_at is not null
    group by workstream_id, started_week_start

),

final as (

    select
        -- keys
        workstream_weeks.week_start,
        workstream_weeks.workstream_id,

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
        cast(workstream_weeks.avg_daily_wip as double) as avg_daily_wip,
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

    from workstream_weeks
    left join weekly_completions
        on
            workstream_weeks.workstream_id = weekly_completions.workstream_id
            and workstream_weeks.week_start = weekly_completions.week_start
    left join trailing_completions
        on
            workstream_weeks.workstream_id = trailing_completions.workstream_id
            and workstream_weeks.week_start = trailing_completions.week_start
    left join weekly_arrivals
        on
            workstream_weeks.workstream_id = weekly_arrivals.workstream_id
            and workstream_weeks.week_start = weekly_arrivals.week_start

)

select * from final
