-- For every completed task with a cycle time, the parts of its status intervals between
-- started_at and completed_at add up to cycle_time_days, and their active parts to
-- active_time_days: the interval history and the task metrics tell the same story.
-- reads several models: Dagster shows it as a check of fct_tasks
{{ config(meta={'dagster': {'ref': {'name': 'fct_tasks'}}}) }}

with

intervals as (

    select * from {{ ref('fct_task_status_intervals') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

clipped as (

    select
        tasks.task_key,
        intervals.is_active,
        case
            when intervals.entered_at > tasks.started_at then intervals.entered_at
            else tasks.started_at
        end as clipped_start,
        case
            when intervals.exited_at is null or intervals.exited_at > tasks.completed_at
                then tasks.completed_at
            else intervals.exited_at
        end as clipped_end

    from tasks
    inner join intervals
        on tasks.task_key = intervals.task_key
    where tasks.cycle_time_days is not null

),

summed as (

    select
        task_key,
        sum(
            case
                when clipped_end > clipped_start
                    then {{ duration_microseconds('clipped_start', 'clipped_end') }}
                else 0
            end
        ) as interval_microseconds,
        sum(
            case
                when is_active and clipped_end > clipped_start
                    then {{ duration_microseconds('clipped_start', 'clipped_end') }}
                else 0
            end
        ) as active_interval_microseconds

    from clipped
    group by task_key

),

summed_in_days as (

    select
        task_key,
        {{ microseconds_to_days('interval_microseconds') }} as interval_days,
        {{ microseconds_to_days('active_interval_microseconds') }} as active_interval_days

    from summed

)

select
    tasks.task_key,
    tasks.cycle_time_days,
    summed_in_days.interval_days,
    tasks.active_time_days,
    summed_in_days.active_interval_days

from tasks
inner join summed_in_days
    on tasks.task_key = summed_in_days.task_key
where
    abs(summed_in_days.interval_days - tasks.cycle_time_days) > 1e-9
    or abs(summed_in_days.active_interval_days - tasks.active_time_days) > 1e-9
