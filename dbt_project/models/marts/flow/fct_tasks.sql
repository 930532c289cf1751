-- One row per task (grain: task_key = source:task_id): its team, type, milestones, lead and
-- cycle time, time active, waiting and blocked, rework, and the workstream and outcome it
-- serves. Durations are decimal days (hours / 24), and business days where the name says
-- so (the team's calendar without weekends and holidays). Lead, cycle, first-pass and rework
-- times and flow efficiency describe completed tasks only; time sums of open tasks run to the
-- end of the as_of day.
-- Its logic lives in int_tasks_joined_to_flow_measures, which the other models that need it
-- read too; this model publishes it under its contract. Incremental on DuckDB like it: a nightly
-- build rebuilds the tasks of int_tasks_to_rebuild and the open tasks.
{{ config(
    materialized=task_history_materialization(),
    on_schema_change='fail',
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key', ref('int_tasks_to_rebuild'), also=is_measured_to_as_of_day()
    ) }}"
) }}

with

tasks_joined_to_flow_measures as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}
    where {{ is_task_without_rows('task_key') }}

),

final as (

    select
        task_key,
        source,
        task_id,
        title,
        team,
        project,
        task_type,
        flow_item_type,
        current_status,
        current_category,
        created_at,
        started_at,
        first_completed_at,
        completed_at,
        cancelled_at,
        lead_time_days,
        cycle_time_days,
        first_pass_cycle_time_days,
        rework_time_days,
        active_time_days,
        wait_time_days,
        other_time_days,
        blocked_time_days,
        flow_efficiency,
        lead_time_business_days,
        cycle_time_business_days,
        first_pass_cycle_time_business_days,
        rework_time_business_days,
        active_time_business_days,
        reopen_count,
        is_reopened,
        is_completed,
        is_cancelled,
        completed_without_start,
        has_inferred_transition,
        found_in,
        workstream_id,
        outcome_id,
        is_linked,
        source_file,
        source_row

    from tasks_joined_to_flow_measures

)

select * from final
