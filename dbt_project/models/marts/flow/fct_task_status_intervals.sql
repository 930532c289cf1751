-- One row per task and status interval (grain: task_key x interval_index): what status a task
-- was in, from when until when. Built from the ordered status changes; the current interval is
-- open and measured to the end of the as_of day in the team's time zone.
-- Its logic lives in int_status_intervals_measured_to_as_of, which the other models that need it
-- read too; this model publishes it under its contract. Incremental on DuckDB like it: a nightly
-- build rebuilds the intervals of int_tasks_to_rebuild and every current interval.
{{ config(
    materialized=task_history_materialization(),
    on_schema_change='fail',
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key', ref('int_tasks_to_rebuild'), also=is_current_interval()
    ) }}"
) }}

with

status_intervals_measured_to_as_of as (

    select * from {{ ref('int_status_intervals_measured_to_as_of') }}
    where
        {{ is_task_to_rebuild('task_key', ref('int_tasks_to_rebuild')) }}
        or {{ is_current_interval() }}

),

final as (

    select
        task_key,
        source,
        task_id,
        team,
        interval_index,
        status,
        status_category,
        workflow_column,
        workflow_column_order,
        is_active,
        is_blocked,
        entered_at,
        exited_at,
        duration_days,
        is_current,
        source_file,
        source_row

    from status_intervals_measured_to_as_of

)

select * from final
