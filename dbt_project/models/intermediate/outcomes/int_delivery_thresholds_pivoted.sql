-- One row (grain: the whole table): the thresholds of the delivery rules of the
-- delivery_thresholds seed, one typed column each, so that every rule reads the same value of
-- the same type. Shares and tolerances are doubles, a number of days an integer. A threshold
-- missing from the seed is null here (the not-null tests and
-- assert_delivery_thresholds_are_complete fail the build).
with

thresholds as (

    select * from {{ ref('delivery_thresholds') }}

),

final as (

    {{ pivot_thresholds('thresholds', [
        ('illusion_min_execution_completeness', type_double()),
        ('illusion_progress_gap_tolerance', type_double()),
        ('zombie_recent_completion_days', 'integer'),
        ('review_unlinked_share_max', type_double()),
        ('review_min_probability_by_target', type_double()),
    ]) }}

)

select * from final
