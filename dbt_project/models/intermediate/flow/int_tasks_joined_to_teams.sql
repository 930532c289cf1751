-- One row per task with the team it counts for and that team's time zone. The team is the
-- task's own `team` when the tracker gives one, else the `teams` seed row of its source and
-- project (matched ignoring case and spaces), else `unassigned`. The time zone is the team's in
-- the seed, UTC for a team the seed does not know.
-- Incremental on DuckDB: a nightly build rebuilds only the tasks whose landed rows changed
-- (stg_tracker__changed_tasks, like the staging models): it reads nothing shared but a seed, which
-- is code (macros/incremental/tasks_to_rebuild.sql).
{{ config(
    materialized=task_history_materialization(),
    pre_hook="{{ delete_tasks_to_rebuild('task_key', ref('stg_tracker__changed_tasks')) }}"
) }}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}
    where {{ is_task_to_rebuild(staged_task_key(), ref('stg_tracker__changed_tasks')) }}

),

teams as (

    select * from {{ ref('teams') }}

),

project_teams as (

    select
        lower(trim(source)) as match_source,
        lower(trim(project)) as match_project,
        trim(team) as team

    from teams

),

team_time_zones as (

    select distinct
        trim(team) as team,
        trim(time_zone) as time_zone

    from teams

),

tasks_with_team as (

    select
        tasks.source,
        tasks.task_id,
        tasks.project,
        tasks.team as own_team,
        project_teams.team as project_team,
        coalesce(tasks.team, project_teams.team, 'unassigned') as team

    from tasks
    left join project_teams
        on
            lower(tasks.source) = project_teams.match_source
            and lower(trim(tasks.project)) = project_teams.match_project

),

final as (

    select
        -- keys
        tasks_with_team.source || ':' || tasks_with_team.task_id as task_key,
        tasks_with_team.source,
        tasks_with_team.task_id,

        -- team
        tasks_with_team.team,
        coalesce(team_time_zones.time_zone, 'UTC') as time_zone,
        case
            when tasks_with_team.own_team is not null then 'task'
            when tasks_with_team.project_team is not null then 'project'
            else 'default'
        end as team_assigned_by

    from tasks_with_team
    left join team_time_zones
        on tasks_with_team.team = team_time_zones.team

)

select * from final
