-- One row per calendar month and team (grain: month x team): rework rate, defect escape
-- rate and bug share of throughput. Months are the team's local calendar months, half-open: a
-- task completed at 00:00 on the first day of a month counts in that month only
-- (int_task_milestones_localised_to_calendar places every task). Bugs are the
-- tasks of flow item type `defect` (work_types seed). Every team has a row for every month from
-- its first task creation to the as_of month.
--   rework rate        completions of the month that were ever reopened / completions
--   defect escape rate bugs created in the month and found in production / bugs created
--   bug share          bug completions / completions
with

tasks as (

    select * from {{ ref('fct_tasks') }}

),

task_calendar as (

    select * from {{ ref('int_task_milestones_localised_to_calendar') }}

),

team_months as (

    select * from {{ ref('int_team_months_spined') }}

),

tasks_in_local_months as (

    select
        tasks.team,
        tasks.flow_item_type = 'defect' as is_bug,
        tasks.found_in,
        tasks.is_completed,
        tasks.is_reopened,
        task_calendar.created_month,
        task_calendar.completed_month

    from tasks
    inner join task_calendar
        on tasks.task_key = task_calendar.task_key

),

monthly_completions as (

    select
        team,
        completed_month as month,
        count(*) as throughput,
        sum(case when is_reopened then 1 else 0 end) as reopened_completions,
        sum(case when is_bug then 1 else 0 end) as bug_completions

    from tasks_in_local_months
    where is_completed
    group by team, completed_month

),

monthly_bugs_created as (

    select
        team,
        created_month as month,
        count(*) as bugs_created,
        sum(case when found_in = 'production' then 1 else 0 end) as escaped_bugs_created,
        sum(case when found_in is null then 1 else 0 end) as bugs_created_without_origin

    from tasks_in_local_months
    where is_bug
    group by team, created_month

),

final as (

    select
        -- keys
        team_months.month,
        team_months.team,

        -- rework
        cast(coalesce(monthly_completions.throughput, 0) as bigint) as throughput,
        cast(coalesce(monthly_completions.reopened_completions, 0) as bigint)
            as reopened_completions,
        cast(monthly_completions.reopened_completions as {{ type_double() }})
        / nullif(monthly_completions.throughput, 0) as rework_rate,

        -- defect escape
        cast(coalesce(monthly_bugs_created.bugs_created, 0) as bigint) as bugs_created,
        cast(coalesce(monthly_bugs_created.escaped_bugs_created, 0) as bigint)
            as escaped_bugs_created,
        cast(coalesce(monthly_bugs_created.bugs_created_without_origin, 0) as bigint)
            as bugs_created_without_origin,
        cast(monthly_bugs_created.escaped_bugs_created as {{ type_double() }})
        / nullif(monthly_bugs_created.bugs_created, 0) as defect_escape_rate,

        -- bug share of throughput
        cast(coalesce(monthly_completions.bug_completions, 0) as bigint) as bug_completions,
        cast(monthly_completions.bug_completions as {{ type_double() }})
        / nullif(monthly_completions.throughput, 0) as bug_share

    from team_months
    left join monthly_completions
        on
            team_months.team = monthly_completions.team
            and team_months.month = monthly_completions.month
    left join monthly_bugs_created
        on
            team_months.team = monthly_bugs_created.team
            and team_months.month = monthly_bugs_created.month

)

select * from final
