-- One row per outcome × evaluation day (grain: outcome_id, evaluated_on): whether anyone is
-- working on the outcome at the end of that day in its teams' time zones. The days are those of
-- the monthly review, each month's last day and, for the month still in progress, the run's
-- as_of date, so mart_zombie_work (at as_of) and the review's start_linked_work rule (at each
-- month) read the same answer. Work is the outcome's linked tasks in its window, as
-- int_linked_tasks_joined_to_outcome_months keeps them: a task done or cancelled before the
-- baseline day is part of the baseline, not active work. Each task counts by the status it was
-- in at the day end, so a task reopened after a completion is no completion until it is done
-- again, and a later reopen does not rewrite an earlier day.
--   linked_tasks_in_wip        linked tasks in an in_progress or waiting status
--   recent_linked_completions  linked tasks done whose latest completion falls on one of the
--                              zombie_recent_completion_days local days ending with the day
--   has_active_work            either is above zero
with

outcome_months as (

    select * from {{ ref('int_outcome_months_spined') }}

),

linked_task_months as (

    select * from {{ ref('int_linked_tasks_joined_to_outcome_months') }}

),

thresholds as (

    select * from {{ ref('int_delivery_thresholds_pivoted') }}

),

recent_completion_window as (

    select zombie_recent_completion_days as recent_completion_days

    from thresholds

),

linked_work_at_day_end as (

    select
        linked_task_months.outcome_id,
        linked_task_months.evaluated_on,
        count(*) as linked_tasks,
        sum(case when linked_task_months.is_in_wip then 1 else 0 end) as linked_tasks_in_wip,
        -- done within the recent window up to the day, on the team's calendar
        sum(
            case
                when
                    linked_task_months.status_category = 'done'
                    and {{ dbt.datediff(
                        'linked_task_months.status_entered_on',
                        'linked_task_months.evaluated_on',
                        'day'
                    ) }} < recent_completion_window.recent_completion_days
                    then 1
                else 0
            end
        ) as recent_linked_completions,
        max(
            case
                when linked_task_months.status_category = 'done'
                    then linked_task_months.status_entered_on
            end
        ) as last_linked_completion_on

    from linked_task_months
    cross join recent_completion_window
    group by linked_task_months.outcome_id, linked_task_months.evaluated_on

),

final as (

    select
        -- keys
        outcome_months.outcome_id,
        outcome_months.evaluated_on,

        -- period
        outcome_months.month,
        outcome_months.evaluated_on = {{ as_of_date() }} as is_as_of_day,

        -- linked work at the end of the day
        cast(coalesce(linked_work_at_day_end.linked_tasks, 0) as bigint) as linked_tasks,
        cast(coalesce(linked_work_at_day_end.linked_tasks_in_wip, 0) as bigint)
            as linked_tasks_in_wip,
        cast(coalesce(linked_work_at_day_end.recent_linked_completions, 0) as bigint)
            as recent_linked_completions,
        linked_work_at_day_end.last_linked_completion_on,
        cast(recent_completion_window.recent_completion_days as integer)
            as recent_completion_days,

        -- the answer
        coalesce(
            linked_work_at_day_end.linked_tasks_in_wip > 0
            or linked_work_at_day_end.recent_linked_completions > 0,
            false
        ) as has_active_work

    from outcome_months
    cross join recent_completion_window
    left join linked_work_at_day_end
        on
            outcome_months.outcome_id = linked_work_at_day_end.outcome_id
            and outcome_months.evaluated_on = linked_work_at_day_end.evaluated_on

)

select * from final
