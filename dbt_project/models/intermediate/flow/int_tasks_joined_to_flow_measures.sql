-- One row per task (grain: task_key = source:task_id): its team, type, milestones, lead and
-- cycle time, time active, waiting and blocked, rework, and the workstream and outcome it
-- serves. Durations are decimal days (hours / 24), and business days where the name says
-- so (the team's calendar without weekends and holidays). Lead, cycle, first-pass and rework
-- times and flow efficiency describe completed tasks only; time sums of open tasks run to the
-- end of the as_of day.
-- Incremental on DuckDB: a nightly build rebuilds the tasks of int_tasks_to_rebuild and the open
-- tasks, whose time sums run to the as_of day (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild(
        'task_key', ref('int_tasks_to_rebuild'), also=is_measured_to_as_of_day()
    ) }}"
) }}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}
    where {{ is_task_without_rows(staged_task_key()) }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

task_work_types as (

    select * from {{ ref('int_tasks_classified_by_work_type') }}

),

task_workstreams as (

    select * from {{ ref('int_tasks_joined_to_workstreams') }}

),

task_milestones as (

    select * from {{ ref('int_status_intervals_aggregated_to_tasks') }}

),

task_times as (

    select * from {{ ref('int_status_intervals_summed_to_task_times') }}

),

task_statuses as (

    select * from {{ ref('int_task_statuses_mapped') }}

),

tasks_with_inferred_transitions as (

    select distinct
        source,
        task_id

    from {{ ref('int_status_changes_mapped') }}
    where is_inferred

),

tasks_joined as (

    select
        tasks.source || ':' || tasks.task_id as task_key,
        tasks.source,
        tasks.task_id,
        tasks.title,
        tasks.project,
        tasks.task_type,
        tasks.status as current_status,
        tasks.found_in,
        tasks.created_at,
        tasks.source_file,
        tasks.source_row,
        task_teams.team,
        task_work_types.flow_item_type,
        current_statuses.status_category as current_category,
        task_workstreams.workstream_id,
        task_workstreams.outcome_id,
        task_workstreams.is_linked,
        task_milestones.started_at,
        task_milestones.first_completed_at,
        task_milestones.completed_at,
        task_milestones.cancelled_at,
        task_milestones.reopen_count,
        task_milestones.created_business_microseconds,
        task_milestones.started_business_microseconds,
        task_milestones.first_completed_business_microseconds,
        task_milestones.completed_business_microseconds,
        task_times.active_time_days,
        task_times.wait_time_days,
        task_times.other_time_days,
        task_times.blocked_time_days,
        task_times.active_time_business_days,
        inferred.task_id is not null as has_inferred_transition

    from tasks
    inner join task_teams
        on
            tasks.source = task_teams.source
            and tasks.task_id = task_teams.task_id
    inner join task_work_types
        on
            tasks.source = task_work_types.source
            and tasks.task_id = task_work_types.task_id
    inner join task_workstreams
        on
            tasks.source = task_workstreams.source
            and tasks.task_id = task_workstreams.task_id
    inner join task_milestones
        on
            tasks.source = task_milestones.source
            and tasks.task_id = task_milestones.task_id
    left join task_times
        on
            tasks.source = task_times.source
            and tasks.task_id = task_times.task_id
    left join tasks_with_inferred_transitions as inferred
        on
            tasks.source = inferred.source
            and tasks.task_id = inferred.task_id
    left join task_statuses as current_statuses
        on
            tasks.source = current_statuses.source
            and tasks.project is not distinct from current_statuses.project
            and {{ status_match_key('tasks.status') }} = current_statuses.status_key

),

measured as (

    select
        *,
        completed_at is not null as is_completed,
        -- an inferred transition stands in for history the export lost: the time between
        -- start and completion is not known, so it is kept out of every cycle-time figure
        completed_at is not null
        and started_at is not null
        and not has_inferred_transition as has_cycle,
        case
            when
                completed_at is not null
                and started_at is not null
                and not has_inferred_transition
                then {{ duration_days('started_at', 'completed_at') }}
        end as cycle_time_days,
        -- null when the first completion came before the first start
        completed_at is not null
        and started_at is not null
        and first_completed_at >= started_at
        and not has_inferred_transition as has_first_pass

    from tasks_joined

),

final as (

    select
        -- keys
        task_key,
        source,
        task_id,

        -- descriptors
        title,
        team,
        project,
        task_type,
        flow_item_type,
        current_status,
        current_category,

        -- milestones (UTC)
        created_at,
        started_at,
        first_completed_at,
        completed_at,
        cancelled_at,

        -- durations, in days
        case
            when is_completed then {{ duration_days('created_at', 'completed_at') }}
        end as lead_time_days,
        cycle_time_days,
        case
            when has_first_pass then {{ duration_days('started_at', 'first_completed_at') }}
        end as first_pass_cycle_time_days,
        case
            when is_completed then {{ duration_days('first_completed_at', 'completed_at') }}
        end as rework_time_days,
        active_time_days,
        wait_time_days,
        other_time_days,
        blocked_time_days,
        case
            when cycle_time_days > 0 then active_time_days / cycle_time_days
        end as flow_efficiency,

        -- durations, in business days of the team's calendar
        case
            when is_completed
                then {{ microseconds_to_days(
                    'completed_business_microseconds - created_business_microseconds'
                ) }}
        end as lead_time_business_days,
        case
            when has_cycle
                then {{ microseconds_to_days(
                    'completed_business_microseconds - started_business_microseconds'
                ) }}
        end as cycle_time_business_days,
        case
            when has_first_pass
                then {{ microseconds_to_days(
                    'first_completed_business_microseconds - started_business_microseconds'
                ) }}
        end as first_pass_cycle_time_business_days,
        case
            when is_completed
                then {{ microseconds_to_days(
                    'completed_business_microseconds - first_completed_business_microseconds'
                ) }}
        end as rework_time_business_days,
        active_time_business_days,

        -- rework
        cast(reopen_count as integer) as reopen_count,
        reopen_count > 0 as is_reopened,

        -- flags
        is_completed,
        cancelled_at is not null as is_cancelled,
        is_completed and started_at is null as completed_without_start,
        has_inferred_transition,

        -- quality
        found_in,

        -- foreign keys
        workstream_id,
        outcome_id,
        is_linked,

        -- lineage: the landing file and record of the task's kept version
        source_file,
        cast(source_row as {{ dbt.type_bigint() }}) as source_row

    from measured

)

select * from final
