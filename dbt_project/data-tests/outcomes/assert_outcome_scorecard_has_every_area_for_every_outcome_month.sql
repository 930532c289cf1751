-- Every outcome-month of mart_outcome_progress has exactly the five scorecard areas, and the
-- scorecard has no outcome-month that mart_outcome_progress lacks: an area that cannot be measured
-- must read no_data, never leave a blank on the report. (Which five is guarded by the
-- accepted_values test on area.) Returns one row per outcome-month that differs.
{{ config(meta={'dagster': {'ref': {'name': 'mart_outcome_scorecard'}}}) }}
with

progress as (

    select * from {{ ref('mart_outcome_progress') }}

),

scorecard as (

    select * from {{ ref('mart_outcome_scorecard') }}

),

scorecard_months as (

    select
        outcome_id,
        month,
        count(*) as area_rows,
        count(distinct area) as distinct_areas

    from scorecard

    group by outcome_id, month

),

mismatches as (

    select
        coalesce(progress.outcome_id, scorecard_months.outcome_id) as outcome_id,
        coalesce(progress.month, scorecard_months.month) as month,
        progress.outcome_id is not null as is_in_outcome_progress,
        coalesce(scorecard_months.area_rows, 0) as area_rows,
        coalesce(scorecard_months.distinct_areas, 0) as distinct_areas

    from progress

    full outer join scorecard_months
        on
            progress.outcome_id = scorecard_months.outcome_id
            and progress.month = scorecard_months.month

    where
        progress.outcome_id is null
        or scorecard_months.outcome_id is null
        or scorecard_months.area_rows <> 5
        or scorecard_months.distinct_areas <> 5

)

select * from mismatches
