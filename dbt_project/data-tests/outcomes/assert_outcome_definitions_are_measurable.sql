{{ config(severity='warn') }}
-- An outcome can only be tracked when its target lies on the KPI's side of the baseline (above
-- for an increase KPI, below for a decrease KPI) and its target date after its baseline date.
-- Otherwise progress is undefined or points the wrong way. A warning, not an error: the PMO owns
-- these definitions and the rest of the warehouse stays publishable. Returns one row per problem.
with

outcomes as (

    select * from {{ ref('dim_outcomes') }}

),

problems as (

    select
        outcome_id,
        'target equals baseline: progress is undefined' as problem
    from outcomes
    where target_value = baseline_value

    union all

    select
        outcome_id,
        'target below baseline for an increase KPI' as problem
    from outcomes
    where direction = 'increase' and target_value < baseline_value

    union all

    select
        outcome_id,
        'target above baseline for a decrease KPI' as problem
    from outcomes
    where direction = 'decrease' and target_value > baseline_value

    union all

    select
        outcome_id,
        'target date not after baseline date' as problem
    from outcomes
    where target_on <= baseline_on

)

select * from problems
