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

final as (

    select * from {{ ref('int_wip_tasks_aged_at_as_of') }}

)

select * from final
