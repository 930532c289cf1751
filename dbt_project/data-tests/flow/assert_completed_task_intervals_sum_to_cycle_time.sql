-- For every completed task with a cycle time, the parts of its status intervals between
-- started_at and completed_at add up to cycle_time_days, split three ways that match the task's
-- own columns: active intervals to active_time_days, other in_progress and waiting intervals
-- (blocked included) to wait_time_days, and the rest (back in todo after a backward move, in
-- done before a reopen) to other_time_days. The interval history and the task metrics tell the
-- same story. Returns each task where they disagree.
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
        case
            when intervals.is_active then 'active'
            when intervals.status_category in ('in_progress', 'waiting') then 'wait'
            else 'other'
        end as time_part,
        {{ clip_to_window(
            'intervals.entered_at', 'intervals.exited_at',
            'tasks.started_at', 'tasks.completed_at'
        ) }}

    from tasks
    inner join intervals
        on tasks.task_key = intervals.task_key
    where tasks.cycle_time_days is not null

),

summed as (

    select
        task_key,
        {% for time_part in ['active', 'wait', 'other'] -%}
            sum(
                case
                    when time_part = '{{ time_part }}' and clipped_end > clipped_start
                        then {{ duration_microseconds('clipped_start', 'clipped_end') }}
                    else 0
                end
            ) as {{ time_part }}_microseconds,
        {% endfor -%}
        sum(
            case
                when clipped_end > clipped_start
                    then {{ duration_microseconds('clipped_start', 'clipped_end') }}
                else 0
            end
        ) as interval_microseconds

    from clipped
    group by task_key

),

summed_in_days as (

    select
        task_key,
        {{ microseconds_to_days('interval_microseconds') }} as interval_days,
        {{ microseconds_to_days('active_microseconds') }} as active_interval_days,
        {{ microseconds_to_days('wait_microseconds') }} as wait_interval_days,
        {{ microseconds_to_days('other_microseconds') }} as other_interval_days

    from summed

)

select
    tasks.task_key,
    tasks.cycle_time_days,
    summed_in_days.interval_days,
    tasks.active_time_days,
    summed_in_days.active_interval_days,
    tasks.wait_time_days,
    summed_in_days.wait_interval_days,
    tasks.other_time_days,
    summed_in_days.other_interval_days

from tasks
inner join summed_in_days
    on tasks.task_key = summed_in_days.task_key
where
    abs(summed_in_days.interval_days - tasks.cycle_time_days) > 1e-9
    or abs(summed_in_days.active_interval_days - tasks.active_time_days) > 1e-9
    or abs(summed_in_days.wait_interval_days - tasks.wait_time_days) > 1e-9
    or abs(summed_in_days.other_interval_days - tasks.other_time_days) > 1e-9
