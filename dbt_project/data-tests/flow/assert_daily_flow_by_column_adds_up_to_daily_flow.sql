-- The board columns of a team on a day hold the same tasks as its status categories: the two
-- cumulative flow diagrams differ only in how they slice the tasks. Returns each team and day
-- where the totals disagree.
-- reads several models: Dagster shows it as a check of fct_daily_flow_by_column
{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_flow_by_column'}}}) }}

with

by_category as (

    select
        flow_date,
        team,
        sum(task_count) as task_count

    from {{ ref('fct_daily_flow') }}
    group by flow_date, team

),

by_column as (

    select
        flow_date,
        team,
        sum(task_count) as task_count

    from {{ ref('fct_daily_flow_by_column') }}
    group by flow_date, team

)

select
    coalesce(by_category.flow_date, by_column.flow_date) as flow_date,
    coalesce(by_category.team, by_column.team) as team,
    by_category.task_count as task_count_by_category,
    by_column.task_count as task_count_by_column

from by_category
full outer join by_column
    on
        by_category.flow_date = by_column.flow_date
        and by_category.team = by_column.team
where by_category.task_count is distinct from by_column.task_count
