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

-- each team's evaluations, one array per team: the end of each evaluation day in the team's time
-- zone (converted once per date and team, not once per task) and the team's cycle-time p85 then
team_evaluations as (

    select
        teams.team,
        teams.time_zone,
        array_agg({{ struct_of([
            ('evaluated_on', 'evaluation_dates.evaluated_on'),
            ('evaluation_day_end_at', local_to_utc_timestamp(
                'cast(' ~ dbt.dateadd('day', 1, 'evaluation_dates.evaluated_on') ~ ' as timestamp)',
                'teams.time_zone'
            )),
            ('team_cycle_time_p85_days', 'team_percentiles.cycle_time_p85_days'),
        ]) }}) as evaluations

    from evaluation_dates
    cross join teams
    left join team_percentiles
        on
            evaluation_dates.evaluated_on = team_percentiles.evaluated_on
            and teams.team = team_percentiles.team
    group by teams.team, teams.time_zone

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

-- each task's flags, one array per task: checked against the few evaluations the task is in
-- WIP at, rather than joined to every row
flags_by_task as (

    select
        source,
        task_id,
        array_agg({{ struct_of([
            ('flagged_at', 'flagged_at'),
            ('unflagged_at', 'unflagged_at'),
        ]) }}) as flags

    from task_flags
    group by source, task_id

),

tasks_in_window as (

    select
        linked_tasks.*,
        flags_by_task.flags

    from linked_tasks
    left join finished_before_baseline
        on linked_tasks.task_key = finished_before_baseline.task_key
    left join flags_by_task
        on
            linked_tasks.source = flags_by_task.source
            and linked_tasks.task_id = flags_by_task.task_id
    where finished_before_baseline.task_key is null

),

-- each status interval with the evaluations of its team whose day end it covers: the task was
-- in that status at the end of the evaluation day. Most intervals cover none; a task's last one
-- covers every later evaluation. A task created after an evaluation has no interval covering it
-- and no row for that month. Each interval is checked against its team's 20-odd evaluations in
-- its own array: joining them on the team would pair it with every evaluation of the team, a
-- handful of teams making each hash bucket huge.
intervals_covering_evaluations as (

    select
        intervals.task_key,
        intervals.status,
        intervals.status_category,
        intervals.entered_at,
        intervals.is_blocked,
        team_evaluations.time_zone,
        {{ array_filtered(
            'team_evaluations.evaluations',
            'evaluation',
            'intervals.entered_at < evaluation.evaluation_day_end_at
                and (
                    intervals.exited_at is null
                    or intervals.exited_at >= evaluation.evaluation_day_end_at
                )'
        ) }} as evaluations

    from intervals
    inner join team_evaluations
        on intervals.team = team_evaluations.team

),

-- the statuses of the tasks in the window that some evaluation found them in: their local entry
-- date is converted once per interval, before each becomes one row per evaluation
statuses_covering_evaluations as (

    select
        tasks_in_window.task_key,
        tasks_in_window.source,
        tasks_in_window.task_id,
        tasks_in_window.team,
        tasks_in_window.workstream_id,
        tasks_in_window.outcome_id,
        tasks_in_window.started_at,
        tasks_in_window.flags,
        intervals_covering_evaluations.status,
        intervals_covering_evaluations.status_category,
        intervals_covering_evaluations.entered_at as status_entered_at,
        {{ local_date(
            'intervals_covering_evaluations.entered_at', 'intervals_covering_evaluations.time_zone'
        ) }} as status_entered_on,
        intervals_covering_evaluations.is_blocked as is_in_blocked_status,
        intervals_covering_evaluations.evaluations

    from intervals_covering_evaluations
    inner join tasks_in_window
        on intervals_covering_evaluations.task_key = tasks_in_window.task_key
    where {{ array_size('intervals_covering_evaluations.evaluations') }} > 0

),

statuses_at_evaluations as (

    select
        task_key,
        source,
        task_id,
        team,
        workstream_id,
        outcome_id,
        started_at,
        flags,
        status,
        status_category,
        status_entered_at,
        status_entered_on,
        is_in_blocked_status,
        {{ exploded('evaluations') }} as evaluation

    from statuses_covering_evaluations

),

statuses_at_evaluation_day_ends as (

    select
        statuses_at_evaluations.task_key,
        statuses_at_evaluations.source,
        statuses_at_evaluations.task_id,
        statuses_at_evaluations.team,
        statuses_at_evaluations.workstream_id,
        statuses_at_evaluations.outcome_id,
        statuses_at_evaluations.started_at,
        statuses_at_evaluations.flags,
        statuses_at_evaluations.status,
        statuses_at_evaluations.status_category,
        statuses_at_evaluations.status_entered_at,
        statuses_at_evaluations.status_entered_on,
        statuses_at_evaluations.is_in_blocked_status,
        statuses_at_evaluations.evaluation.evaluated_on,
        statuses_at_evaluations.evaluation.evaluation_day_end_at,
        statuses_at_evaluations.evaluation.team_cycle_time_p85_days

    from statuses_at_evaluations

),

-- each evaluation of the task's outcome: its months' evaluations only. For tasks in WIP, a
-- flag open at the end of the evaluation day (raised before it, lowered after it or never) and
-- the age at that instant
assessed as (

    select
        outcome_months.outcome_id,
        outcome_months.month,
        outcome_months.evaluated_on,
        statuses.task_key,
        statuses.source,
        statuses.task_id,
        statuses.team,
        statuses.workstream_id,
        statuses.status,
        statuses.status_category,
        statuses.status_entered_at,
        statuses.status_entered_on,
        statuses.is_in_blocked_status,
        statuses.status_category in ('in_progress', 'waiting') as is_in_wip,
        coalesce({{ array_any(
            'statuses.flags',
            'flag',
            'statuses.evaluation_day_end_at > flag.flagged_at
                and (
                    flag.unflagged_at is null
                    or statuses.evaluation_day_end_at < flag.unflagged_at
                )'
        ) }}, false) as is_flagged,
        statuses.team_cycle_time_p85_days,
        case
            when statuses.status_category in ('in_progress', 'waiting')
                then {{ duration_days('statuses.started_at', 'statuses.evaluation_day_end_at') }}
        end as age_days

    from statuses_at_evaluation_day_ends as statuses
    inner join outcome_months
        on
            statuses.outcome_id = outcome_months.outcome_id
            and statuses.evaluated_on = outcome_months.evaluated_on

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
