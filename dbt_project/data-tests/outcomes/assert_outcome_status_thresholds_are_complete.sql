-- The status rules need both tolerances, once each, with 0 <= on_track <= at_risk: a missing
-- tolerance would silently turn every late outcome off_track. Returns one row per problem.
with

thresholds as (

    select * from {{ ref('outcome_status_thresholds') }}

),

required_names as (

    select 'on_track_tolerance' as threshold_name
    union all
    select 'at_risk_tolerance' as threshold_name

),

occurrences as (

    select
        required_names.threshold_name,
        count(thresholds.threshold_name) as occurrence_count,
        max(thresholds.threshold_value) as threshold_value

    from required_names

    left join thresholds
        on required_names.threshold_name = thresholds.threshold_name

    group by required_names.threshold_name

),

problems as (

    select
        threshold_name,
        'expected once, found ' || cast(occurrence_count as {{ dbt.type_string() }}) || ' times'
            as problem
    from occurrences
    where occurrence_count <> 1

    union all

    select
        threshold_name,
        'negative tolerance' as problem
    from occurrences
    where threshold_value < 0

    union all

    select
        'on_track_tolerance' as threshold_name,
        'larger than at_risk_tolerance' as problem
    from occurrences as on_track
    inner join occurrences as at_risk
        on
            on_track.threshold_name = 'on_track_tolerance'
            and at_risk.threshold_name = 'at_risk_tolerance'
    where on_track.threshold_value > at_risk.threshold_value

)

select * from problems
