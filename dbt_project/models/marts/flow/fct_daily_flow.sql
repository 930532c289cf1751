-- One row per day, team and status category (grain: flow_date x team x status_category): how
-- many of the team's tasks were in the category at the end of that day, in the team's time zone
-- (the cumulative flow diagram; in_progress + waiting is the WIP). Days run from the first task
-- creation to the as_of date; every team and category has a row for every day, zero included.
-- An interval covers the end of local day D when it was entered before the following midnight
-- and left at or after it, so it covers the local days [entered, exited): counts are a running
-- sum of +1 on the day an interval starts covering and -1 on the day it stops, which costs one
-- pass over the intervals however long the history.
with

intervals as (

    select * from {{ ref('fct_task_status_intervals') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

-- local dates only move forward with time, so the first day is converted per team, not per task
team_first_creations as (

    select
        tasks.team,
        teams.time_zone,
        min(tasks.created_at) as first_created_at

    from tasks
    inner join teams
        on tasks.team = teams.team
    group by tasks.team, teams.time_zone

),

calendar_bounds as (

    select
        min({{ local_date('first_created_at', 'time_zone') }}) as first_day,
        {{ as_of_date() }} as last_day

    from team_first_creations

),

calendar_days as (

    {{ calendar_days('calendar_bounds', 'first_day', 'last_day') }}

),

teams_with_tasks as (

    select team from team_first_creations

),

status_categories as (

    {% for category in flow_status_categories() -%}
        select
            '{{ category.category }}' as status_category,
            {{ 'true' if category.is_wip else 'false' }} as is_wip_category
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

calendar as (

    select
        calendar_days.calendar_date as flow_date,
        teams_with_tasks.team,
        status_categories.status_category,
        status_categories.is_wip_category

    from calendar_days
    cross join teams_with_tasks
    cross join status_categories

),

interval_first_days as (

    select
        intervals.task_key,
        intervals.interval_index,
        intervals.team,
        intervals.status_category,
        {{ local_date('intervals.entered_at', 'teams.time_zone') }} as first_day_covered

    from intervals
    inner join teams
        on intervals.team = teams.team

),

-- an interval ends when the next one of its task begins (the intervals are contiguous), so its
-- end day is the next interval's first day: one time zone conversion per interval, not two
interval_local_days as (

    select
        team,
        status_category,
        first_day_covered,
        lead(first_day_covered) over (
            partition by task_key
            order by interval_index
        ) as first_day_not_covered

    from interval_first_days

),

covering_intervals as (

    select *
    from interval_local_days
    where first_day_not_covered is null or first_day_not_covered > first_day_covered

),

coverage_changes as (

    select
        team,
        status_category,
        first_day_covered as change_on,
        1 as task_count_change

    from covering_intervals

    union all

    select
        team,
        status_category,
        first_day_not_covered as change_on,
        -1 as task_count_change

    from covering_intervals
    where first_day_not_covered is not null

),

daily_changes as (

    select
        team,
        status_category,
        change_on,
        sum(task_count_change) as task_count_change

    from coverage_changes
    group by team, status_category, change_on

),

final as (

    select
        -- keys
        calendar.flow_date,
        calendar.team,
        calendar.status_category,

        -- measures
        cast(
            sum(coalesce(daily_changes.task_count_change, 0)) over (
                partition by calendar.team, calendar.status_category
                order by calendar.flow_date
                rows between unbounded preceding and current row
            ) as bigint
        ) as task_count,
        calendar.is_wip_category

    from calendar
    left join daily_changes
        on
            calendar.team = daily_changes.team
            and calendar.status_category = daily_changes.status_category
            and calendar.flow_date = daily_changes.change_on

)

select * from final
