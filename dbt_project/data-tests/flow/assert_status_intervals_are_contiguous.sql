-- A task's status intervals start at its creation, follow each other without gap or overlap
-- (each ends exactly when the next begins), are numbered 1..n, and only the last is open.
-- Returns one row per violation.
-- reads several models: Dagster shows it as a check of fct_task_status_intervals
{{ config(meta={'dagster': {'ref': {'name': 'fct_task_status_intervals'}}}) }}

with

intervals as (

    select * from {{ ref('fct_task_status_intervals') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

sequenced as (

    select
        task_key,
        interval_index,
        entered_at,
        exited_at,
        lead(entered_at) over (partition by task_key order by interval_index) as next_entered_at,
        row_number() over (partition by task_key order by interval_index) as position_in_task

    from intervals

),

tasks_without_intervals as (

    select
        tasks.task_key,
        1 as interval_index,
        'task has no status interval' as problem

    from tasks
    left join sequenced
        on tasks.task_key = sequenced.task_key
    where sequenced.task_key is null

),

first_intervals_after_creation as (

    select
        sequenced.task_key,
        sequenced.interval_index,
        'first interval does not start at creation' as problem

    from sequenced
    inner join tasks
        on sequenced.task_key = tasks.task_key
    where sequenced.position_in_task = 1 and sequenced.entered_at <> tasks.created_at

),

intervals_misnumbered as (

    select
        task_key,
        interval_index,
        'interval numbers are not 1..n' as problem

    from sequenced
    where interval_index <> position_in_task

),

intervals_not_touching_the_next as (

    select
        task_key,
        interval_index,
        'gap or overlap before the next interval' as problem

    from sequenced
    where next_entered_at is not null and (exited_at is null or exited_at <> next_entered_at)

),

last_intervals_closed as (

    select
        task_key,
        interval_index,
        'last interval is not open' as problem

    from sequenced
    where next_entered_at is null and exited_at is not null

),

violations as (

    select * from tasks_without_intervals
    union all
    select * from first_intervals_after_creation
    union all
    select * from intervals_misnumbered
    union all
    select * from intervals_not_touching_the_next
    union all
    select * from last_intervals_closed

)

select * from violations
