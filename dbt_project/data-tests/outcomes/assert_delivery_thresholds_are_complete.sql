-- The delivery rules need each of their thresholds once, in range: a missing row would silently
-- turn every productivity illusion, zombie outcome or review rule that reads it off. Returns one row per problem.
with

thresholds as (

    select * from {{ ref('delivery_thresholds') }}

),

required_names as (

    select 'illusion_min_execution_completeness' as threshold_name
    union all
    select 'illusion_progress_gap_tolerance' as threshold_name
    union all
    select 'zombie_recent_completion_days' as threshold_name
    union all
    select 'review_unlinked_share_max' as threshold_name
    union all
    select 'review_min_probability_by_target' as threshold_name

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
        'a share of done work must lie in (0, 1]' as problem
    from occurrences
    where
        threshold_name = 'illusion_min_execution_completeness'
        and (threshold_value <= 0 or threshold_value > 1)

    union all

    select
        threshold_name,
        'negative tolerance' as problem
    from occurrences
    where
        threshold_name = 'illusion_progress_gap_tolerance'
        and threshold_value < 0

    union all

    select
        threshold_name,
        'a number of days must be a whole number of at least 1' as problem
    from occurrences
    where
        threshold_name = 'zombie_recent_completion_days'
        and (threshold_value < 1 or threshold_value <> floor(threshold_value))

    union all

    select
        threshold_name,
        'a share must lie in [0, 1]' as problem
    from occurrences
    where
        threshold_name in ('review_unlinked_share_max', 'review_min_probability_by_target')
        and (threshold_value < 0 or threshold_value > 1)

)

select * from problems
