-- One row per finding (grain: finding_type x subject_id) at the as_of date: work and outcomes
-- that look alive on a board but no longer move anything, or outcomes nobody works on.
--   outcome_without_active_work  an outcome not achieved, whose window has begun and whose
--                                target date has not passed, with no active work at the end
--                                of the as_of day: no linked task of its window in WIP and none
--                                completed in the last `zombie_recent_completion_days`
--                                (int_outcome_days_assessed_for_active_work, which the monthly
--                                review reads for each month; subject: the outcome)
--   work_on_achieved_outcome     a task linked to an achieved outcome that is in WIP, or was
--                                started after the outcome first reached its target (subject:
--                                the task)
--   work_past_target_date        a task in WIP linked to an outcome whose target date has passed
--                                (subject: the task)
-- WIP is mart_aging_wip: the status at the end of the as_of day in the task's team time zone.
-- An outcome is achieved when the latest month with a known status (not no_data) is achieved;
-- it first reached its target on the latest observation of its first achieved month.
with

outcomes as (

    select * from {{ ref('dim_outcomes') }}

),

outcome_months as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

tasks as (

    select * from {{ ref('fct_tasks') }}

),

wip_tasks as (

    select * from {{ ref('int_wip_tasks_aged_at_as_of') }}

),

teams as (

    select * from {{ ref('dim_teams') }}

),

active_work as (

    select * from {{ ref('int_outcome_days_assessed_for_active_work') }}

),

active_work_at_as_of as (

    select * from active_work
    where is_as_of_day

),

-- a stale KPI feed (no_data) neither makes nor unmakes an achievement: the latest known status
-- decides
measured_months as (

    select
        outcome_id,
        status,
        row_number() over (
            partition by outcome_id
            order by month desc
        ) as recency_rank

    from outcome_months
    where status <> 'no_data'

),

-- last_observed_on never decreases from one month to the next, so the earliest over the
-- achieved months is the latest observation of the first one
first_achievements as (

    select
        outcome_id,
        min(last_observed_on) as first_achieved_on

    from outcome_months
    where status = 'achieved'
    group by outcome_id

),

outcome_states as (

    select
        outcomes.outcome_id,
        outcomes.owner,
        outcomes.baseline_on,
        outcomes.target_on,
        coalesce(measured_months.status = 'achieved', false) as is_achieved,
        first_achievements.first_achieved_on

    from outcomes
    left join measured_months
        on
            outcomes.outcome_id = measured_months.outcome_id
            and measured_months.recency_rank = 1
    left join first_achievements
        on outcomes.outcome_id = first_achievements.outcome_id

),

-- linked tasks with their milestones as local dates of their team, known by the as_of day
linked_tasks as (

    select
        tasks.task_key,
        tasks.task_id,
        tasks.team,
        tasks.workstream_id,
        tasks.outcome_id,
        tasks.started_at,
        {{ local_date('tasks.started_at', 'teams.time_zone') }} as started_on,
        {{ local_date('tasks.completed_at', 'teams.time_zone') }} as completed_on,
        {{ local_date('tasks.cancelled_at', 'teams.time_zone') }} as cancelled_on

    from tasks
    inner join teams
        on tasks.team = teams.team
    where
        tasks.is_linked
        and {{ local_date('tasks.created_at', 'teams.time_zone') }} <= {{ as_of_date() }}

),

linked_wip_tasks as (

    select * from wip_tasks
    where is_linked

),

outcomes_without_active_work as (

    select
        outcome_states.outcome_id,
        outcome_states.owner,
        outcome_states.target_on,
        outcome_states.first_achieved_on,
        active_work_at_as_of.linked_tasks,
        active_work_at_as_of.last_linked_completion_on as last_completed_on,
        active_work_at_as_of.recent_completion_days

    from outcome_states
    inner join active_work_at_as_of
        on outcome_states.outcome_id = active_work_at_as_of.outcome_id
    where
        not outcome_states.is_achieved
        -- an outcome whose window has not begun is not expected to have work yet
        and outcome_states.baseline_on <= {{ as_of_date() }}
        and outcome_states.target_on >= {{ as_of_date() }}
        and not active_work_at_as_of.has_active_work

),

work_on_achieved_outcomes as (

    select
        linked_tasks.task_key,
        linked_tasks.task_id,
        linked_tasks.team,
        linked_tasks.workstream_id,
        linked_tasks.outcome_id,
        linked_tasks.started_at,
        linked_tasks.started_on,
        outcome_states.owner,
        outcome_states.target_on,
        outcome_states.first_achieved_on,
        linked_wip_tasks.task_key is not null as is_in_wip,
        coalesce(linked_tasks.started_on > outcome_states.first_achieved_on, false)
            as started_after_achievement

    from linked_tasks
    inner join outcome_states
        on linked_tasks.outcome_id = outcome_states.outcome_id
    left join linked_wip_tasks
        on linked_tasks.task_key = linked_wip_tasks.task_key
    where
        outcome_states.is_achieved
        and (
            linked_wip_tasks.task_key is not null
            or (
                linked_tasks.started_on > outcome_states.first_achieved_on
                and linked_tasks.started_on <= {{ as_of_date() }}
                -- work stopped by the as_of day is no longer spent on the outcome
                and (
                    linked_tasks.cancelled_on is null
                    or linked_tasks.cancelled_on > {{ as_of_date() }}
                )
            )
        )

),

work_past_target_dates as (

    select
        linked_wip_tasks.task_key,
        linked_wip_tasks.task_id,
        linked_wip_tasks.team,
        linked_wip_tasks.workstream_id,
        linked_wip_tasks.outcome_id,
        linked_wip_tasks.started_at,
        outcome_states.owner,
        outcome_states.target_on,
        outcome_states.first_achieved_on,
        cast({{ dbt.datediff('outcome_states.target_on', as_of_date(), 'day') }} as bigint) as days_past_target

    from linked_wip_tasks
    inner join outcome_states
        on linked_wip_tasks.outcome_id = outcome_states.outcome_id
    where outcome_states.target_on < {{ as_of_date() }}

),

findings as (

    select
        'outcome_without_active_work' as finding_type,
        outcome_id as subject_id,
        outcome_id,
        cast(null as {{ dbt.type_string() }}) as task_key,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as workstream_id,
        owner as outcome_owner,
        target_on as outcome_target_on,
        first_achieved_on as outcome_first_achieved_on,
        cast(null as timestamp) as task_started_at,
        cast(null as boolean) as is_task_in_wip,
        linked_tasks,
        last_completed_on,
        outcome_id || ' is not achieved and its target date '
        || cast(target_on as {{ dbt.type_string() }}) || ' is ahead, but '
        || case
            when linked_tasks = 0 then 'no task is linked to it'
            else
                case
                    when linked_tasks = 1 then 'its one linked task is not in progress'
                    else
                        'none of its ' || cast(linked_tasks as {{ dbt.type_string() }})
                        || ' linked tasks is in progress'
                end
                || case
                    when last_completed_on is null then ' and none has been completed'
                    else
                        ' and none was completed in the last '
                        || cast(recent_completion_days as {{ dbt.type_string() }})
                        || ' days (the last on '
                        || cast(last_completed_on as {{ dbt.type_string() }}) || ')'
                end
        end as finding

    from outcomes_without_active_work

    union all

    select
        'work_on_achieved_outcome' as finding_type,
        task_key as subject_id,
        outcome_id,
        task_key,
        team,
        workstream_id,
        owner as outcome_owner,
        target_on as outcome_target_on,
        first_achieved_on as outcome_first_achieved_on,
        started_at as task_started_at,
        is_in_wip as is_task_in_wip,
        cast(null as bigint) as linked_tasks,
        cast(null as date) as last_completed_on,
        case
            when started_after_achievement
                then
                    task_id || ' was started on ' || cast(started_on as {{ dbt.type_string() }})
                    || ', after ' || outcome_id || ' reached its target on '
                    || cast(first_achieved_on as {{ dbt.type_string() }})
                    || case when is_in_wip then ', and is still in progress' else '' end
            else
                task_id || ' is in progress on ' || outcome_id || ', which reached its target on '
                || cast(first_achieved_on as {{ dbt.type_string() }})
        end as finding

    from work_on_achieved_outcomes

    union all

    select
        'work_past_target_date' as finding_type,
        task_key as subject_id,
        outcome_id,
        task_key,
        team,
        workstream_id,
        owner as outcome_owner,
        target_on as outcome_target_on,
        first_achieved_on as outcome_first_achieved_on,
        started_at as task_started_at,
        true as is_task_in_wip,
        cast(null as bigint) as linked_tasks,
        cast(null as date) as last_completed_on,
        task_id || ' is still in progress on ' || outcome_id || ', whose target date '
        || cast(target_on as {{ dbt.type_string() }}) || ' passed '
        || cast(days_past_target as {{ dbt.type_string() }})
        || case when days_past_target = 1 then ' day' else ' days' end || ' ago' as finding

    from work_past_target_dates

),

final as (

    select
        -- keys
        finding_type,
        subject_id,

        -- subject
        outcome_id,
        task_key,
        team,
        workstream_id,
        outcome_owner,

        -- evidence
        {{ as_of_date() }} as as_of_date,
        outcome_target_on,
        outcome_first_achieved_on,
        task_started_at,
        is_task_in_wip,
        linked_tasks,
        last_completed_on,

        -- the finding in words
        finding

    from findings

)

select * from final
