-- One row per day, team and status category (grain: flow_date x team x status_category): how
-- many of the team's tasks were in the category at the end of that day, in the team's time zone
-- (the cumulative flow diagram; in_progress + waiting is the WIP). Days run from the first task
-- creation to the as_of date; every team and category has a row for every day, zero included.
-- Counts are running sums of the daily changes of int_status_intervals_localised_to_days.
with

intervals as (

    select * from {{ ref('int_status_intervals_localised_to_days') }}

),

calendar_bounds as (

    select
        min(first_day_covered) as first_day,
        {{ as_of_date() }} as last_day

    from intervals

),

calendar_days as (

    {{ calendar_days('calendar_bounds', 'first_day', 'last_day') }}

),

teams_with_tasks as (

    select distinct team from intervals

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

daily_changes as (

    {{ daily_task_count_changes('intervals', ['team', 'status_category']) }}

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
