-- One row per team × local calendar month (grain: team, month), from the month in which
-- the team's first task was created, in the team's time zone, through the month of the as_of
-- date: the rows of every team-month mart, so that a month without any activity keeps its row
-- (with zero counts) instead of disappearing.
with

tasks as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

team_month_bounds as (

    select
        tasks.team,
        min(task_calendar.created_month) as first_month,
        {{ month_start(as_of_date()) }} as last_month

    from tasks
    inner join task_calendar
        on tasks.task_key = task_calendar.task_key
    group by tasks.team

),

-- a hundred years of months: more than any tracker's history
month_offsets as (

    {{ dbt.generate_series(1200) }}

),

final as (

    select
        team_month_bounds.team,
        cast(
            {{ dbt.dateadd(
                'month', 'month_offsets.generated_number - 1', 'team_month_bounds.first_month'
            ) }}
            as date
        ) as month

    from team_month_bounds
    cross join month_offsets
    where
        month_offsets.generated_number - 1
        <= {{ dbt.datediff('team_month_bounds.first_month', 'team_month_bounds.last_month', 'month') }}

)

select * from final
