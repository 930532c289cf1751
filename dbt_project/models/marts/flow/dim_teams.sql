-- One row per team: every team of the `teams` seed and every team a task counts for (its own
-- team column, or `unassigned`), with the time zone its days and weeks are counted in.
-- Its logic lives in int_teams_unioned_with_task_teams, which the other models that need it
-- read too; this model publishes it under its contract.
with

teams_unioned_with_task_teams as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

),

final as (

    select
        team,
        time_zone,
        is_configured

    from teams_unioned_with_task_teams

)

select * from final
