-- One row per outcome × month (grain: outcome_id, month), the months of mart_outcome_progress:
-- how much of the work linked to the outcome was done at the month's evaluation date, beside how
-- far its KPI had moved, and whether the pair reads as a productivity illusion
-- (docs/metrics.md, "Execution vs delivery"). Each month is judged as it was: a task counts by the
-- status it was in at the end of the evaluation day in its team's time zone, so a later reopen,
-- completion or cancellation does not rewrite a past month; work finished before the outcome's
-- baseline is part of the baseline and does not count (int_linked_tasks_joined_to_outcome_months).
-- Its logic lives in int_outcome_months_compared_with_execution, which the other models that need it
-- read too; this model publishes it under its contract.
with

outcome_months_compared_with_execution as (

    select * from {{ ref('int_outcome_months_compared_with_execution') }}

),

final as (

    select
        outcome_id,
        month,
        evaluated_on,
        linked_tasks,
        completed_linked_tasks,
        execution_completeness,
        outcome_progress,
        expected_progress,
        progress_gap,
        outcome_status,
        is_productivity_illusion,
        illusion_reason

    from outcome_months_compared_with_execution

)

select * from final
