-- The review judges a linked task's age at each month's evaluation day; mart_aging_wip judges
-- every task in WIP at the as_of day. In the as_of month the two look at the same moment, so
-- for every task both hold they must agree on the age and on whether it is at or beyond the
-- team's cycle-time p85 (the p85_p95 and above_p95 bands). Returns one row per disagreement.
{{ config(meta={'dagster': {'ref': {'name': 'int_linked_tasks_joined_to_outcome_months'}}}) }}
with

linked_task_months as (

    select * from {{ ref('int_linked_tasks_joined_to_outcome_months') }}

),

aging_wip as (

    select * from {{ ref('mart_aging_wip') }}

),

as_of_month_tasks as (

    select *
    from linked_task_months
    where evaluated_on = {{ as_of_date() }}

),

disagreements as (

    select
        as_of_month_tasks.outcome_id,
        as_of_month_tasks.task_key,
        as_of_month_tasks.is_in_wip,
        as_of_month_tasks.age_days as review_age_days,
        aging_wip.age_days as aging_wip_age_days,
        as_of_month_tasks.is_aging_beyond_p85,
        aging_wip.aging_band

    from as_of_month_tasks

    inner join aging_wip
        on as_of_month_tasks.task_key = aging_wip.task_key

    where
        not as_of_month_tasks.is_in_wip
        or abs(as_of_month_tasks.age_days - aging_wip.age_days) > 1e-9
        or as_of_month_tasks.is_aging_beyond_p85
        <> coalesce(aging_wip.aging_band in ('p85_p95', 'above_p95'), false)

)

select * from disagreements
