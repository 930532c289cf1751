-- One row per outcome × month (grain: outcome_id, month), the months of mart_outcome_progress:
-- how much of the work linked to the outcome was done at the month's evaluation date, beside how
-- far its KPI had moved, and whether the pair reads as a productivity illusion
-- (docs/metrics.md, "Execution vs delivery"). Each month is judged as it was: a task counts by the
-- status it was in at the end of the evaluation day in its team's time zone, so a later reopen,
-- completion or cancellation does not rewrite a past month; work finished before the outcome's
-- baseline is part of the baseline and does not count (int_linked_tasks_joined_to_outcome_months).
with

outcome_months as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

linked_task_months as (

    select * from {{ ref('int_linked_tasks_joined_to_outcome_months') }}

),

thresholds as (

    select * from {{ ref('int_delivery_thresholds_pivoted') }}

),

illusion_thresholds as (

    select
        illusion_min_execution_completeness as min_execution_completeness,
        illusion_progress_gap_tolerance as progress_gap_tolerance

    from thresholds

),

monthly_execution as (

    select
        outcome_id,
        month,
        -- cancelled work is neither done nor to do: it leaves the denominator
        sum(case when status_category <> 'cancelled' then 1 else 0 end) as linked_tasks,
        sum(case when status_category = 'done' then 1 else 0 end) as completed_linked_tasks

    from linked_task_months
    group by outcome_id, month

),

compared as (

    select
        outcome_months.outcome_id,
        outcome_months.month,
        outcome_months.evaluated_on,
        cast(coalesce(monthly_execution.linked_tasks, 0) as bigint) as linked_tasks,
        cast(coalesce(monthly_execution.completed_linked_tasks, 0) as bigint)
            as completed_linked_tasks,
        cast(monthly_execution.completed_linked_tasks as {{ type_double() }})
        / nullif(monthly_execution.linked_tasks, 0) as execution_completeness,
        outcome_months.progress as outcome_progress,
        outcome_months.expected_progress,
        outcome_months.expected_progress - outcome_months.progress as progress_gap,
        outcome_months.status as outcome_status

    from outcome_months
    left join monthly_execution
        on
            outcome_months.outcome_id = monthly_execution.outcome_id
            and outcome_months.month = monthly_execution.month

),

judged as (

    select
        compared.*,

        -- the work says "done", the KPI says "not yet": completeness at or above the minimum
        -- while progress trails expected progress by more than the tolerance. Both comparisons
        -- use values rounded to 6 decimals, like the outcome status, so a value exactly on a
        -- threshold stays on its side. Unknown completeness or progress is never an illusion,
        -- and neither is a month whose status is no_data: a stale feed's last value is not
        -- this month's.
        coalesce(
            compared.outcome_status <> 'no_data'
            and round(compared.execution_completeness, 6)
            >= illusion_thresholds.min_execution_completeness
            and round(compared.progress_gap, 6) > illusion_thresholds.progress_gap_tolerance,
            false
        ) as is_productivity_illusion

    from compared
    cross join illusion_thresholds

),

-- whole percentages, as a leader reads them on the report
worded as (

    select
        *,
        {{ percent_text('execution_completeness') }} as completeness_percent,
        {{ percent_text('outcome_progress') }} as progress_percent,
        {{ percent_text('expected_progress') }} as expected_progress_percent

    from judged

),

final as (

    select
        -- keys
        outcome_id,
        month,

        -- period
        evaluated_on,

        -- execution
        linked_tasks,
        completed_linked_tasks,
        execution_completeness,

        -- delivery
        outcome_progress,
        expected_progress,
        progress_gap,
        outcome_status,

        -- verdict
        is_productivity_illusion,
        case
            when is_productivity_illusion
                then
                    case
                        when linked_tasks = 1 then 'the one linked task is done'
                        else
                            completeness_percent || ' of the '
                            || cast(linked_tasks as {{ dbt.type_string() }})
                            || ' linked tasks are done'
                    end
                    || case
                        when round(outcome_progress * 100) < 0
                            then
                                ', but the KPI has moved away from its target ('
                                || progress_percent || ' of its way)'
                        else
                            ', but the KPI has made ' || progress_percent
                            || ' of its way to target'
                    end
                    || ' against ' || expected_progress_percent || ' expected'
        end as illusion_reason

    from worded

)

select * from final
