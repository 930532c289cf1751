-- One row per task in WIP at the end of the as_of day (grain: task_key): how old it is, how
-- that age compares with what its team usually takes, how long it has been blocked, and where it
-- sits. A task is in WIP when the status it was in at the end of the as_of day, in its team's
-- time zone, is in_progress or waiting. Its age runs from started_at (the commitment point) to
-- that day end. The aging band places the age against the cycle-time percentiles of the team's
-- completions of the trailing window (var trailing_window_days, 90 by default: completed_at in
-- the days ending with the as_of day):
-- below_p50, p50_p85, p85_p95, above_p95 (each band includes its lower bound); null when the
-- team completed nothing with a cycle time in that window.
-- Its logic lives in int_wip_tasks_aged_at_as_of, which the other models that need it
-- read too; this model publishes it under its contract.
with

wip_tasks_aged_at_as_of as (

    select * from {{ ref('int_wip_tasks_aged_at_as_of') }}

),

final as (

    select
        task_key,
        source,
        task_id,
        title,
        team,
        task_type,
        flow_item_type,
        current_status,
        current_category,
        workflow_column,
        workstream_id,
        outcome_id,
        is_linked,
        as_of_date,
        started_at,
        age_days,
        days_in_status,
        aging_band,
        reference_completions,
        cycle_time_p50_days,
        cycle_time_p85_days,
        cycle_time_p95_days,
        blocked_days,
        is_in_blocked_status,
        reopen_count

    from wip_tasks_aged_at_as_of

)

select * from final
