-- Every outcome has exactly one row per month from the month of its baseline through the month of
-- the run's as_of date, and no other rows: no gap, no duplicate, nothing before or after. An
-- outcome whose baseline month starts after as_of has none. Returns one row per mismatch.
{{ config(meta={'dagster': {'ref': {'name': 'mart_outcome_progress'}}}) }}
with

outcomes as (

    select * from {{ ref('dim_outcomes') }}

),

progress as (

    select * from {{ ref('mart_outcome_progress') }}

),

expected_spans as (

    select
        outcome_id,
        {{ month_start('baseline_on') }} as first_month,
        {{ month_start(as_of_date()) }} as last_month,
        {{ dbt.datediff(month_start('baseline_on'), month_start(as_of_date()), 'month') }} + 1
            as month_count

    from outcomes

    where {{ month_start('baseline_on') }} <= {{ month_start(as_of_date()) }}

),

actual_spans as (

    select
        outcome_id,
        min(month) as first_month,
        max(month) as last_month,
        count(*) as row_count,
        count(distinct month) as month_count,
        -- a month key that is not the first day of its month would slip past the count
        sum(case when month <> {{ month_start('month') }} then 1 else 0 end) as misaligned_months

    from progress

    group by outcome_id

),

mismatches as (

    select
        coalesce(expected_spans.outcome_id, actual_spans.outcome_id) as outcome_id,
        expected_spans.first_month as expected_first_month,
        actual_spans.first_month as actual_first_month,
        expected_spans.last_month as expected_last_month,
        actual_spans.last_month as actual_last_month,
        expected_spans.month_count as expected_month_count,
        actual_spans.row_count as actual_row_count

    from expected_spans

    full outer join actual_spans
        on expected_spans.outcome_id = actual_spans.outcome_id

    where
        expected_spans.outcome_id is null
        or actual_spans.outcome_id is null
        or actual_spans.first_month <> expected_spans.first_month
        or actual_spans.last_month <> expected_spans.last_month
        or actual_spans.row_count <> expected_spans.month_count
        or actual_spans.month_count <> expected_spans.month_count
        or actual_spans.misaligned_months > 0

)

select * from mismatches
