-- Each month is judged at its last day, or at the run's as_of date for the month in progress.
-- Returns the rows judged at any other date.
with

progress as (

    select * from {{ ref('mart_outcome_progress') }}

),

misjudged as (

    select
        outcome_id,
        month,
        evaluated_on,
        least({{ dbt.last_day(date='month', datepart='month') }}, {{ as_of_date() }})
            as expected_evaluated_on

    from progress

)

select * from misjudged
where evaluated_on <> expected_evaluated_on
