-- One row per outcome × month (grain: outcome_id, month), the months of mart_outcome_progress:
-- every fact the monthly review reads, gathered in one place so that the review's sentences
-- (mart_outcome_review) and its rules (mart_outcome_recommendations) judge the same numbers.
--   what moved        the KPI's value against the month before (the baseline for the first
--                     month), beside the move the straight-line trajectory expected
--   what blocked it   linked tasks in WIP at the end of the evaluation day that are blocked or
--                     older than their team's cycle-time p85, their count and the oldest
--   context           execution completeness and illusion, whether the outcome has active work
--                     (int_outcome_days_assessed_for_active_work, as mart_zombie_work reads it at
--                     as_of), and the forecast for the as_of month
with

outcome_months as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

outcomes as (

    select * from {{ ref('int_outcomes_joined_to_kpis') }}

),

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

execution as (

    select * from {{ ref('int_outcome_months_compared_with_execution') }}

),

linked_task_months as (

    select * from {{ ref('int_linked_tasks_joined_to_outcome_months') }}

),

active_work as (

    select * from {{ ref('int_outcome_days_assessed_for_active_work') }}

),

outcome_forecasts as (

    select * from {{ ref('int_outcome_forecasts_dated') }}

),

-- what moved: each month against the month before; the first month of the outcome's window
-- against the baseline, where both the actual and the expected path start
compared_with_previous_month as (

    select
        outcome_months.*,
        previous_month.month is null as is_first_month,
        case
            when previous_month.month is null then outcome_months.baseline_value
            else previous_month.actual_value
        end as previous_value,
        case
            when previous_month.month is null then outcome_months.baseline_value
            else previous_month.expected_value
        end as previous_expected_value,
        case
            when previous_month.month is null then 0.0
            else previous_month.progress
        end as previous_progress,
        case
            when previous_month.month is null then 0.0
            else previous_month.expected_progress
        end as previous_expected_progress

    from outcome_months
    left join outcome_months as previous_month
        on
            outcome_months.outcome_id = previous_month.outcome_id
            and cast({{ dbt.dateadd('month', -1, 'outcome_months.month') }} as date)
            = previous_month.month

),

-- what blocked it: tasks in WIP held up (blocked status or open flag) or aging beyond p85
stuck_tasks as (

    select
        *,
        row_number() over (
            partition by outcome_id, month
            order by age_days desc, task_key asc
        ) as age_rank

    from linked_task_months
    where is_blocked or is_aging_beyond_p85

),

stuck_work_at_evaluation as (

    select
        outcome_id,
        month,
        sum(case when is_blocked then 1 else 0 end) as blocked_linked_tasks,
        sum(case when is_aging_beyond_p85 then 1 else 0 end) as aging_linked_tasks,
        count(*) as stuck_linked_tasks

    from stuck_tasks
    group by outcome_id, month

),

oldest_stuck_tasks as (

    select * from stuck_tasks
    where age_rank = 1

),

final as (

    select
        -- keys
        compared_with_previous_month.outcome_id,
        compared_with_previous_month.month,

        -- period
        compared_with_previous_month.evaluated_on,
        compared_with_previous_month.is_first_month,

        -- the outcome and its KPI
        outcomes.statement,
        outcomes.owner,
        outcomes.kpi_id,
        coalesce(outcomes.kpi_name, outcomes.kpi_id) as kpi_name,
        outcomes.unit,
        outcomes.direction,
        kpis.cadence_days,
        outcomes.baseline_on,
        outcomes.target_on,
        compared_with_previous_month.baseline_value,
        compared_with_previous_month.target_value,
        -- enough decimals to show a hundredth of the baseline → target distance, at most two
        case
            when abs(outcomes.target_value - outcomes.baseline_value) >= 100 then 0
            when abs(outcomes.target_value - outcomes.baseline_value) >= 10 then 1
            else 2
        end as value_decimals,

        -- progress in the month
        compared_with_previous_month.status,
        compared_with_previous_month.actual_value,
        compared_with_previous_month.expected_value,
        compared_with_previous_month.progress,
        compared_with_previous_month.expected_progress,
        compared_with_previous_month.last_observed_on,
        compared_with_previous_month.days_since_last_observation,

        -- what moved
        compared_with_previous_month.previous_value,
        compared_with_previous_month.previous_expected_value,
        compared_with_previous_month.actual_value
        - compared_with_previous_month.previous_value as kpi_delta,
        compared_with_previous_month.expected_value
        - compared_with_previous_month.previous_expected_value as expected_delta,
        compared_with_previous_month.progress
        - compared_with_previous_month.previous_progress as progress_delta,
        compared_with_previous_month.expected_progress
        - compared_with_previous_month.previous_expected_progress as expected_progress_delta,

        -- execution
        execution.linked_tasks,
        execution.completed_linked_tasks,
        execution.execution_completeness,
        execution.is_productivity_illusion,
        execution.illusion_reason,

        -- what blocked it
        cast(coalesce(active_work.linked_tasks_in_wip, 0) as bigint) as linked_tasks_in_wip,
        cast(coalesce(stuck_work_at_evaluation.blocked_linked_tasks, 0) as bigint)
            as blocked_linked_tasks,
        cast(coalesce(stuck_work_at_evaluation.aging_linked_tasks, 0) as bigint)
            as aging_linked_tasks,
        cast(coalesce(stuck_work_at_evaluation.stuck_linked_tasks, 0) as bigint)
            as stuck_linked_tasks,
        oldest_stuck_tasks.task_key as oldest_stuck_task_key,
        oldest_stuck_tasks.task_id as oldest_stuck_task_id,
        oldest_stuck_tasks.team as oldest_stuck_task_team,
        oldest_stuck_tasks.status as oldest_stuck_task_status,
        oldest_stuck_tasks.age_days as oldest_stuck_task_age_days,
        oldest_stuck_tasks.is_blocked as is_oldest_stuck_task_blocked,

        -- recent delivery of linked work, and whether the outcome has active work at all
        cast(coalesce(active_work.recent_linked_completions, 0) as bigint)
            as recent_linked_completions,
        active_work.last_linked_completion_on,
        coalesce(active_work.has_active_work, false) as has_active_work,

        -- forecast, for the month of the run's as_of date only
        outcome_forecasts.remaining_tasks as forecast_remaining_tasks,
        outcome_forecasts.forecast_p85_on,
        outcome_forecasts.probability_done_by_target

    from compared_with_previous_month
    inner join outcomes
        on compared_with_previous_month.outcome_id = outcomes.outcome_id
    left join kpis
        on outcomes.kpi_id = kpis.kpi_id
    left join execution
        on
            compared_with_previous_month.outcome_id = execution.outcome_id
            and compared_with_previous_month.month = execution.month
    left join active_work
        on
            compared_with_previous_month.outcome_id = active_work.outcome_id
            and compared_with_previous_month.evaluated_on = active_work.evaluated_on
    left join stuck_work_at_evaluation
        on
            compared_with_previous_month.outcome_id = stuck_work_at_evaluation.outcome_id
            and compared_with_previous_month.month = stuck_work_at_evaluation.month
    left join oldest_stuck_tasks
        on
            compared_with_previous_month.outcome_id = oldest_stuck_tasks.outcome_id
            and compared_with_previous_month.month = oldest_stuck_tasks.month
    left join outcome_forecasts
        on
            compared_with_previous_month.outcome_id = outcome_forecasts.outcome_id
            and compared_with_previous_month.month = outcome_forecasts.month

)

select * from final
