-- One row per outcome × month (grain: outcome_id, month), the months of mart_outcome_progress:
-- how much of the work linked to the outcome was done at the month's evaluation date, beside how
-- far its KPI had moved, and whether the pair reads as a productivity illusion (SPEC §5). Each
-- month is judged as it was: a task counts by the status it was in at the end of the evaluation
-- day in its team's time zone, so a later reopen, completion or cancellation does not rewrite a
-- past month.
with

outcome_months as (

    select * from {{ ref('mart_outcome_progress') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

intervals as (

    select * from {{ ref('fct_task_status_intervals') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

thresholds as (

    select * from {{ ref('delivery_thresholds') }}

),

illusion_thresholds as (

    select
        max(
            case
                when threshold_name = 'illusion_min_execution_completeness'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as min_execution_completeness,
        max(
            case
                when threshold_name = 'illusion_progress_gap_tolerance'
                    then cast(threshold_value as {{ type_double() }})
            end
        ) as progress_gap_tolerance

    from thresholds

),

linked_tasks as (

    select
        tasks.task_key,
        tasks.outcome_id,
        teams.time_zone

    from tasks
    inner join teams
        on tasks.team = teams.team
    where tasks.is_linked

),

evaluation_dates as (

    select distinct evaluated_on from outcome_months

),

linked_time_zones as (

    select distinct time_zone from linked_tasks

),

-- the end of an evaluation day depends only on the date and the time zone: converted once per
-- pair, not once per task
evaluation_day_ends as (

    select
        evaluation_dates.evaluated_on,
        linked_time_zones.time_zone,
        {{ local_to_utc_timestamp(
            'cast(' ~ dbt.dateadd('day', 1, 'evaluation_dates.evaluated_on') ~ ' as timestamp)',
            'linked_time_zones.time_zone'
        ) }} as evaluation_day_end_at

    from evaluation_dates
    cross join linked_time_zones

),

linked_task_months as (

    select
        outcome_months.outcome_id,
        outcome_months.month,
        linked_tasks.task_key,
        evaluation_day_ends.evaluation_day_end_at

    from outcome_months
    inner join linked_tasks
        on outcome_months.outcome_id = linked_tasks.outcome_id
    inner join evaluation_day_ends
        on
            outcome_months.evaluated_on = evaluation_day_ends.evaluated_on
            and linked_tasks.time_zone = evaluation_day_ends.time_zone

),

-- the status each linked task was in at the end of the evaluation day; a task created after it
-- has no interval yet and drops out here
statuses_at_evaluation as (

    select
        linked_task_months.outcome_id,
        linked_task_months.month,
        intervals.status_category

    from linked_task_months
    inner join intervals
        on
            linked_task_months.task_key = intervals.task_key
            and linked_task_months.evaluation_day_end_at > intervals.entered_at
            and (
                intervals.exited_at is null
                or linked_task_months.evaluation_day_end_at <= intervals.exited_at
            )

),

monthly_execution as (

    select
        outcome_id,
        month,
        -- cancelled work is neither done nor to do: it leaves the denominator
        sum(case when status_category <> 'cancelled' then 1 else 0 end) as linked_tasks,
        sum(case when status_category = 'done' then 1 else 0 end) as completed_linked_tasks

    from statuses_at_evaluation
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
        -- threshold stays on its side; unknown completeness or progress is never an illusion.
        coalesce(
            round(compared.execution_completeness, 6)
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
        cast(cast(round(execution_completeness * 100) as integer) as {{ dbt.type_string() }})
        || '%' as completeness_percent,
        cast(cast(round(outcome_progress * 100) as integer) as {{ dbt.type_string() }})
        || '%' as progress_percent,
        cast(cast(round(expected_progress * 100) as integer) as {{ dbt.type_string() }})
        || '%' as expected_progress_percent

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
