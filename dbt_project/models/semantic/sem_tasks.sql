-- One row per task (grain: task_key): the tasks of fct_tasks with the local days their
-- milestones fall on (int_task_milestones_localised_to_calendar, the one placement every daily,
-- weekly and monthly mart reads), for the semantic layer's `tasks` model. A metric grouped by a
-- week or a month of these days counts each task in the same week and month as the marts do.
-- The time sums are the whole microseconds mart_flow_weekly adds up, so that a ratio of sums here
-- is the mart's ratio to the bit.
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

final as (

    select
        -- keys
        tasks.task_key,
        tasks.team,
        tasks.workstream_id,
        tasks.outcome_id,

        -- attributes
        tasks.source,
        tasks.task_type,
        tasks.flow_item_type,
        tasks.current_category,
        tasks.found_in,
        tasks.is_linked,
        tasks.is_completed,
        tasks.started_at is not null as is_started,
        tasks.flow_item_type = 'defect' as is_bug,
        tasks.is_reopened,

        -- local days of the milestones
        task_calendar.created_on,
        task_calendar.started_on,
        task_calendar.completed_on,

        -- measures
        tasks.lead_time_days,
        tasks.cycle_time_days,
        {{ days_to_microseconds('tasks.cycle_time_days') }} as cycle_time_microseconds,
        -- active time counts toward flow efficiency only beside a cycle time
        case
            when tasks.cycle_time_days is not null
                then {{ days_to_microseconds('tasks.active_time_days') }}
        end as active_time_microseconds

    from tasks
    inner join task_calendar
        on tasks.task_key = task_calendar.task_key

)

select * from final
