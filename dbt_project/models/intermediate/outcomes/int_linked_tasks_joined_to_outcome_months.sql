-- One row per outcome × month × linked task (grain: outcome_id, month, task_key): every task
-- linked to the outcome, as it stood at the end of the month's evaluation day in its team's time
-- zone. Past months are judged as they were: a later reopen, completion or cancellation does not
-- rewrite them. A task is in the outcome's window unless it was already done or cancelled when
-- the baseline day began (that work is part of the baseline); tasks outside the window and tasks
-- created after the evaluation day have no row. For tasks in WIP it gives what blocks them: a
-- blocked status or an open flag at that moment, and their age against the team's cycle-time
-- p85 of the trailing window ending with the evaluation day
-- (int_team_cycle_times_windowed_to_percentiles, which mart_aging_wip reads for the as_of day).
with

outcome_months as (

    select * from {{ ref('int_outcome_months_judged_against_targets') }}

),

outcomes as (

    select * from {{ ref('int_outcomes_joined_to_kpis') }}

),

tasks as (

    select * from {{ ref('int_tasks_joined_to_flow_measures') }}

),

intervals as (

    select * from {{ ref('int_status_intervals_measured_to_as_of') }}

),

task_flags as (

    select * from {{ ref('stg_tracker__task_flags') }}

),

teams as (

    select * from {{ ref('int_teams_unioned_with_task_teams') }}

),

team_percentiles as (

    select * from {{ ref('int_team_cycle_times_windowed_to_percentiles') }}

),

evaluation_dates as (

    select distinct evaluated_on from outcome_months

),

-- the end of an evaluation day depends only on the date and the time zone: converted once per
-- pair, not once per task
evaluation_day_ends as (

    select
        evaluation_dates.evaluated_on,
        teams.team,
        teams.time_zone,
        {{ local_to_utc_timestamp(
            'cast(' ~ dbt.dateadd('day', 1, 'evaluation_dates.evaluated_on') ~ ' as timestamp)',
            'teams.time_zone'
        ) }} as evaluation_day_end_at

    from evaluation_dates
    cross join teams

),

-- the start of an outcome's baseline day, likewise, depends only on the outcome and the time
-- zone: converted once per outcome and team, not once per linked task (at a million tasks, 3 of
-- the model's 13 seconds went to converting it for each of 800,000 tasks)
baseline_day_starts as (

    select
        outcomes.outcome_id,
        teams.team,
        {{ local_to_utc_timestamp('cast(outcomes.baseline_on as timestamp)', 'teams.time_zone') }}
            as baseline_day_start_at

    from outcomes
    cross join teams

),

linked_tasks as (

    select
        tasks.task_key,
        tasks.source,
        tasks.task_id,
        tasks.team,
        tasks.workstream_id,
        tasks.outcome_id,
        tasks.started_at,
        baseline_day_starts.baseline_day_start_at

    from tasks
    inner join baseline_day_starts
        on
            tasks.outcome_id = baseline_day_starts.outcome_id
            and tasks.team = baseline_day_starts.team
    where tasks.is_linked

),

-- work that was finished or dropped before the outcome was set is part of its baseline
finished_before_baseline as (

    select linked_tasks.task_key

    from linked_tasks
    inner join intervals
        on
            linked_tasks.task_key = intervals.task_key
            and linked_tasks.baseline_day_start_at > intervals.entered_at
            and (
                intervals.exited_at is null
                or linked_tasks.baseline_day_start_at <= intervals.exited_at
            )
    where intervals.status_category in ('done', 'cancelled')

),

tasks_in_window as (

    select linked_tasks.*

    from linked_tasks
    left join finished_before_baseline
        on linked_tasks.task_key = finished_before_baseline.task_key
    where finished_before_baseline.task_key is null

),

-- the status each task was in at the end of each evaluation day: the intervals of the tasks in
-- the window, each with the evaluation day ends it covers (most cover none, a task's last one
-- covers every later evaluation). A task created after an evaluation has no interval covering it
-- and no row for that month. The intervals are first matched to the few evaluation dates alone,
-- with the widest day end any time zone gives (UTC-12 to UTC+14, so 10 to 36 hours after the
-- date's UTC midnight, with an hour of margin each way): joining them on the team first would
-- pair each interval with every evaluation of its team, a handful of teams making each hash
-- bucket huge. The exact end of the day in the team's zone then decides.
evaluation_candidates as (

    select
        tasks_in_window.*,
        intervals.status,
        intervals.status_category,
        intervals.entered_at,
        intervals.exited_at,
        intervals.is_blocked,
        evaluation_dates.evaluated_on

    from intervals
    inner join tasks_in_window
        on intervals.task_key = tasks_in_window.task_key
    inner join evaluation_dates
        on
            intervals.entered_at < {{ dbt.dateadd(
                'hour', 37, 'cast(evaluation_dates.evaluated_on as timestamp)'
            ) }}
            and (
                intervals.exited_at is null
                or intervals.exited_at >= {{ dbt.dateadd(
                    'hour', 9, 'cast(evaluation_dates.evaluated_on as timestamp)'
                ) }}
            )

),

intervals_at_evaluations as (

    select
        evaluation_candidates.*,
        evaluation_day_ends.evaluation_day_end_at,
        evaluation_day_ends.time_zone

    from evaluation_candidates
    inner join evaluation_day_ends
        on
            evaluation_candidates.team = evaluation_day_ends.team
            and evaluation_candidates.evaluated_on = evaluation_day_ends.evaluated_on
    where
        evaluation_candidates.entered_at < evaluation_day_ends.evaluation_day_end_at
        and (
            evaluation_candidates.exited_at is null
            or evaluation_candidates.exited_at >= evaluation_day_ends.evaluation_day_end_at
        )

),

-- a task's last status covers every later evaluation: its local date is converted once
statuses_at_any_evaluation as (

    select distinct
        task_key,
        entered_at,
        time_zone

    from intervals_at_evaluations

),

statuses_entered as (

    select
        task_key,
        entered_at,
        {{ local_date('entered_at', 'time_zone') }} as status_entered_on

    from statuses_at_any_evaluation

),

statuses_at_evaluation as (

    select
        outcome_months.outcome_id,
        outcome_months.month,
        outcome_months.evaluated_on,
        intervals_at_evaluations.evaluation_day_end_at,
        intervals_at_evaluations.task_key,
        intervals_at_evaluations.source,
        intervals_at_evaluations.task_id,
        intervals_at_evaluations.team,
        intervals_at_evaluations.workstream_id,
        intervals_at_evaluations.started_at,
        intervals_at_evaluations.status,
        intervals_at_evaluations.status_category,
        intervals_at_evaluations.entered_at as status_entered_at,
        statuses_entered.status_entered_on,
        intervals_at_evaluations.is_blocked as is_in_blocked_status

    from intervals_at_evaluations
    inner join outcome_months
        on
            intervals_at_evaluations.outcome_id = outcome_months.outcome_id
            and intervals_at_evaluations.evaluated_on = outcome_months.evaluated_on
    inner join statuses_entered
        on
            intervals_at_evaluations.task_key = statuses_entered.task_key
            and intervals_at_evaluations.entered_at = statuses_entered.entered_at

),

-- a flag open at the end of the evaluation day (raised before it, lowered after it or never)
flagged_at_evaluation as (

    select distinct
        statuses_at_evaluation.outcome_id,
        statuses_at_evaluation.month,
        statuses_at_evaluation.task_key

    from statuses_at_evaluation
    inner join task_flags
        on
            statuses_at_evaluation.source = task_flags.source
            and statuses_at_evaluation.task_id = task_flags.task_id
            and statuses_at_evaluation.evaluation_day_end_at > task_flags.flagged_at
            and (
                task_flags.unflagged_at is null
                or statuses_at_evaluation.evaluation_day_end_at < task_flags.unflagged_at
            )

),

assessed as (

    select
        statuses_at_evaluation.*,
        statuses_at_evaluation.status_category in ('in_progress', 'waiting') as is_in_wip,
        flagged_at_evaluation.task_key is not null as is_flagged,
        team_percentiles.cycle_time_p85_days as team_cycle_time_p85_days,
        case
            when statuses_at_evaluation.status_category in ('in_progress', 'waiting')
                then {{ duration_days(
                    'statuses_at_evaluation.started_at',
                    'statuses_at_evaluation.evaluation_day_end_at'
                ) }}
        end as age_days

    from statuses_at_evaluation
    left join flagged_at_evaluation
        on
            statuses_at_evaluation.outcome_id = flagged_at_evaluation.outcome_id
            and statuses_at_evaluation.month = flagged_at_evaluation.month
            and statuses_at_evaluation.task_key = flagged_at_evaluation.task_key
    left join team_percentiles
        on
            statuses_at_evaluation.evaluated_on = team_percentiles.evaluated_on
            and statuses_at_evaluation.team = team_percentiles.team

),

final as (

    select
        -- keys
        outcome_id,
        month,
        task_key,

        -- task
        source,
        task_id,
        team,
        workstream_id,

        -- state at the end of the evaluation day
        evaluated_on,
        status,
        status_category,
        status_entered_at,
        status_entered_on,
        is_in_wip,

        -- what holds it up, for tasks in WIP
        is_in_wip and (is_in_blocked_status or is_flagged) as is_blocked,
        age_days,
        team_cycle_time_p85_days,
        coalesce(is_in_wip and age_days >= team_cycle_time_p85_days, false)
            as is_aging_beyond_p85

    from assessed

)

select * from final
