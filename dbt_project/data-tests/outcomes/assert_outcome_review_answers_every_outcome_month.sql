-- The monthly review has exactly one row per outcome-month of mart_outcome_progress, and every
-- row matched at least one rule of mart_outcome_recommendations: a leader must never find a
-- month missing, nor a month with no answer to "what changes next". Returns one row per
-- outcome-month that breaks this.
{{ config(meta={'dagster': {'ref': {'name': 'mart_outcome_review'}}}) }}
with

progress as (

    select * from {{ ref('mart_outcome_progress') }}

),

review as (

    select * from {{ ref('mart_outcome_review') }}

),

recommendations as (

    select * from {{ ref('mart_outcome_recommendations') }}

),

recommended_months as (

    select
        outcome_id,
        month,
        count(*) as recommendations

    from recommendations

    group by outcome_id, month

),

problems as (

    select
        coalesce(progress.outcome_id, review.outcome_id) as outcome_id,
        coalesce(progress.month, review.month) as month,
        case
            when review.outcome_id is null then 'no review row'
            when progress.outcome_id is null then 'a review row without an outcome month'
            else 'no recommendation'
        end as problem

    from progress

    full outer join review
        on
            progress.outcome_id = review.outcome_id
            and progress.month = review.month

    left join recommended_months
        on
            progress.outcome_id = recommended_months.outcome_id
            and progress.month = recommended_months.month

    where
        review.outcome_id is null
        or progress.outcome_id is null
        or recommended_months.outcome_id is null

)

select * from problems
