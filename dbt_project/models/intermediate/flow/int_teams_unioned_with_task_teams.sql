-- One row per team: every team of the `teams` seed and every team a task counts for (its own
-- team column, or `unassigned`), with the time zone its days and weeks are counted in.
with

teams as (

    select * from {{ ref('teams') }}

),

task_teams as (

    select * from {{ ref('int_tasks_joined_to_teams') }}

),

configured_teams as (

    select distinct
        trim(team) as team,
        trim(time_zone) as time_zone

    from teams

),

teams_of_tasks as (

    select distinct
        team,
        time_zone

    from task_teams

),

all_teams as (

    select
        team,
        time_zone

    from configured_teams

    union

    select
        team,
        time_zone

    from teams_of_tasks

),

final as (

    select
        -- keys
        all_teams.team,

        -- calendar
        all_teams.time_zone,

        -- provenance
        configured_teams.team is not null as is_configured

    from all_teams
    left join configured_teams
        on all_teams.team = configured_teams.team

)

select * from final
