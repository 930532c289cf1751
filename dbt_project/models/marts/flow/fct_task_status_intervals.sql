-- One row per task and status interval (grain: task_key x interval_index): what status a task
-- was in, from when until when. Built from the ordered status changes; the current interval is
-- open and measured to the end of the as_of day in the team's time zone.
-- Its logic lives in int_status_intervals_measured_to_as_of, which the other models that need it
-- read too; this model publishes it under its contract.
with

final as (

    select * from {{ ref('int_status_intervals_measured_to_as_of') }}

)

select * from final
