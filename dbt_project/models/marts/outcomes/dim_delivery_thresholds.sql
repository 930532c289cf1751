-- One row: the thresholds of the delivery rules, one typed column each, as every rule reads them
-- (int_delivery_thresholds_pivoted, from the delivery_thresholds seed). Published so that the
-- report and BI tools print the values the rules used, not copies of them.
with

delivery_thresholds_pivoted as (

    select * from {{ ref('int_delivery_thresholds_pivoted') }}

),

final as (

    select
        illusion_min_execution_completeness,
        illusion_progress_gap_tolerance,
        zombie_recent_completion_days,
        review_unlinked_share_max,
        review_min_probability_by_target

    from delivery_thresholds_pivoted

)

select * from final
