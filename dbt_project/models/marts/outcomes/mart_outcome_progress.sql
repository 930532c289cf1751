-- One row per outcome × month: where the KPI stands against its baseline → target line, where it
-- should stand by now, and the resulting status.
-- Its logic lives in int_outcome_months_judged_against_targets, which the other models that need it
-- read too; this model publishes it under its contract.
with

outcome_months_judged_against_targets as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

final as (

    select
        outcome_id,
        kpi_id,
        month,
        evaluated_on,
        is_partial_month,
        baseline_value,
        target_value,
        actual_value,
        observation_count,
        last_observed_on,
        days_since_last_observation,
        progress,
        expected_progress,
        expected_value,
        status

    from outcome_months_judged_against_targets

)

select * from final
