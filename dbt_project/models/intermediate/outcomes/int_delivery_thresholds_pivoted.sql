-- One row (grain: the whole table): the thresholds of the delivery rules of the
-- delivery_thresholds seed, one typed column each, so that every rule reads the same value of
-- the same type. Shares and tolerances are doubles, a number of days an integer. A threshold
-- missing from the seed is null here (the not_null tests and
-- assert_delivery_thresholds_are_complete fail the build).
with

thresholds as (

    select * from {{ ref('delivery_thresholds') }}

),

final as (

    select
        -- productivity illusion (int_outcome_months_compared_with_execution)
        max(
            case
                when threshold_name = 'illusion_min_execution_completeness'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as illusion_min_execution_completeness,
        max(
            case
                when threshold_name = 'illusion_progress_gap_tolerance'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as illusion_progress_gap_tolerance,

        -- active work (mart_zombie_work and the monthly review)
        max(
            case
                when threshold_name = 'zombie_recent_completion_days'
                    then cast(threshold_value as integer)
            end
        ) as zombie_recent_completion_days,

        -- the monthly review's rules (int_outcome_months_matched_to_review_rules)
        max(
            case
                when threshold_name = 'review_unlinked_share_max'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as review_unlinked_share_max,
        max(
            case
                when threshold_name = 'review_min_probability_by_target'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as review_min_probability_by_target

    from thresholds

)

select * from final
