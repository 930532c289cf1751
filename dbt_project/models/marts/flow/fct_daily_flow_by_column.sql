-- One row per day, team and workflow column (grain: flow_date x team x workflow_column): how
-- many of the team's tasks were in a status of that board column at the end of the day, in the
-- team's time zone: the cumulative flow diagram at the resolution of the team's board. The
-- columns and their order come from the status_categories seed; a column counts as WIP when one
-- of its statuses is in_progress or waiting. Days and zeros as in fct_daily_flow.
with

intervals as (

    select * from {{ ref('int_status_intervals_localised_to_days') }}

),

status_categories as (

    select * from {{ ref('status_categories') }}

),

workflow_columns as (

    select
        workflow_column,
        min(column_order) as workflow_column_order,
        {{ dbt.bool_or("category in ('in_progress', 'waiting')") }} as is_wip_column

    from status_categories
    group by workflow_column

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

calendar as (

    select
        calendar_days.calendar_date as flow_date,
        teams_with_tasks.team,
        workflow_columns.workflow_column,
        workflow_columns.workflow_column_order,
        workflow_columns.is_wip_column

    from calendar_days
    cross join teams_with_tasks
    cross join workflow_columns

),

daily_changes as (

    {{ daily_task_count_changes('intervals', ['team', 'workflow_column']) }}

),

final as (

    select
        -- keys
        calendar.flow_date,
        calendar.team,
        calendar.workflow_column,

        -- board position
        cast(calendar.workflow_column_order as integer) as workflow_column_order,

        -- measures
        cast(
            sum(coalesce(daily_changes.task_count_change, 0)) over (
                partition by calendar.team, calendar.workflow_column
                order by calendar.flow_date
                rows between unbounded preceding and current row
            ) as bigint
        ) as task_count,
        calendar.is_wip_column

    from calendar
    left join daily_changes
        on
            calendar.team = daily_changes.team
            and calendar.workflow_column = daily_changes.workflow_column
            and calendar.flow_date = daily_changes.change_on

)

select * from final
