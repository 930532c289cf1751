-- One row per task (grain: task_key = source:task_id): its team, type, milestones, lead and
-- cycle time, time active, waiting and blocked, rework, and the workstream and outcome it
-- serves. Durations are decimal days (hours / 24), and business days where the name says
-- so (the team's calendar without weekends and holidays). Lead, cycle, first-pass and rework
-- times and flow efficiency describe completed tasks only; time sums of open tasks run to the
-- end of the as_of day.
-- Its logic lives in int_tasks_joined_to_flow_measures, which the other models that need it
-- read too; this model publishes it under its contract.
with

final as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}

)

select * from final
