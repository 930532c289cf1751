-- One row per team: every team of the `teams` seed and every team a task counts for (its own
-- team column, or `unassigned`), with the time zone its days and weeks are counted in.
-- Its logic lives in int_teams_unioned_with_task_teams, which the other models that need it
-- read too; this model publishes it under its contract.
with

final as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

)

select * from final
