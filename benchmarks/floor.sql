-- The floor: per-task flow facts and weekly cycle-time percentiles in plain DuckDB SQL, no dbt.
--
-- Reads the raw tables of a built warehouse (raw.tasks, raw.task_status_changes) and the status
-- and team seeds as dbt loaded them (config.status_categories, config.teams); the as_of date is
-- the variable as_of (`set variable as_of = date '...'`). Writes its tables into schema floor.
-- It mirrors the definitions of dbt_project/models (staging/tracker, intermediate/flow,
-- fct_tasks, mart_flow_weekly) closely enough to be a fair lower bound for the same work:
--   * the newest version of each task, and only the history in that version's file;
--   * status intervals from creation through each transition, the last one open;
--   * started = first entry into in_progress or waiting; completed = last entry into done, if
--     done now; cycle time = started to completed; lead time = created to completed; active and
--     wait time inside the started..completed (or as_of day end) window; flow efficiency =
--     active / cycle time;
--   * weekly p50/p85/p95 of cycle and lead time per team, weeks of the team's local calendar.
-- Left out, so the floor is lower than a full equivalent: business-day durations, blocked time
-- (flags), inferred transitions of truncated histories, project-specific status rows, the
-- trailing 12-week percentiles, WIP and every data test.

create schema if not exists floor;

create or replace table floor.tasks as
select
    trim(source) as source,
    trim(task_id) as task_id,
    trim(status) as status,
    nullif(trim(team), '') as team,
    nullif(trim(project), '') as project,
    created_at,
    updated_at,
    _source_file as source_file
from raw.tasks
qualify row_number() over (
    partition by trim(source), trim(task_id)
    order by updated_at desc nulls last, _source_file desc, _source_row desc
) = 1;

-- the seed row of each status name and source: a row naming the source beats a generic one
create or replace table floor.status_map as
select
    sources.source,
    lower(trim(seed.status)) as status_key,
    seed.category as status_category,
    seed.is_active,
    seed.is_blocked
from (select distinct source from floor.tasks) as sources
inner join config.status_categories as seed
    on coalesce(nullif(lower(trim(seed.source)), ''), lower(sources.source)) = lower(sources.source)
qualify row_number() over (
    partition by sources.source, lower(trim(seed.status))
    order by nullif(trim(seed.source), '') is null
) = 1;

create or replace table floor.transitions as
with deduplicated as (
    select
        trim(changes.source) as source,
        trim(changes.task_id) as task_id,
        changes.changed_at,
        nullif(trim(changes.from_status), '') as from_status,
        trim(changes.to_status) as to_status,
        changes.sequence,
        changes._source_file as source_file,
        changes._source_row as source_row
    from raw.task_status_changes as changes
    inner join floor.tasks as tasks
        on trim(changes.source) = tasks.source and trim(changes.task_id) = tasks.task_id
    where changes._source = 'canonical' or changes._source_file = tasks.source_file
    qualify row_number() over (
        partition by
            trim(changes.source), trim(changes.task_id), changes.changed_at,
            coalesce(changes.from_status, ''), changes.to_status, coalesce(changes.sequence, -1)
        order by changes._source_file desc, changes._source_row desc
    ) = 1
)
select
    *,
    row_number() over (
        partition by source, task_id
        order by changed_at, sequence nulls last, source_file, source_row
    ) as transition_index
from deduplicated;

create or replace table floor.task_teams as
with zones as (select distinct trim(team) as team, trim(time_zone) as time_zone from config.teams)
select
    tasks.source,
    tasks.task_id,
    coalesce(tasks.team, project_teams.team, 'unassigned') as team,
    coalesce(zones.time_zone, 'UTC') as time_zone,
    ((cast(getvariable('as_of') + 1 as timestamp) at time zone coalesce(zones.time_zone, 'UTC'))
        at time zone 'UTC') as as_of_day_end_at
from floor.tasks as tasks
left join config.teams as project_teams
    on
        lower(tasks.source) = lower(trim(project_teams.source))
        and lower(trim(tasks.project)) = lower(trim(project_teams.project))
left join zones on coalesce(tasks.team, project_teams.team, 'unassigned') = zones.team;

create or replace table floor.status_intervals as
with entries as (
    select
        tasks.source,
        tasks.task_id,
        0 as transition_index,
        case when firsts.task_id is null then tasks.status else firsts.from_status end as status,
        tasks.created_at as entered_at
    from floor.tasks as tasks
    left join floor.transitions as firsts
        on
            tasks.source = firsts.source
            and tasks.task_id = firsts.task_id
            and firsts.transition_index = 1
    union all
    select
        transitions.source,
        transitions.task_id,
        transitions.transition_index,
        transitions.to_status,
        greatest(transitions.changed_at, tasks.created_at)
    from floor.transitions as transitions
    inner join floor.tasks as tasks
        on transitions.source = tasks.source and transitions.task_id = tasks.task_id
)
select
    entries.source,
    entries.task_id,
    entries.transition_index + 1 as interval_index,
    entries.status,
    case when entries.status is null then 'todo' else statuses.status_category end
        as status_category,
    coalesce(entries.status is not null and statuses.is_active, false) as is_active,
    coalesce(entries.status is not null and statuses.is_blocked, false) as is_blocked,
    entries.entered_at,
    lead(entries.entered_at) over (
        partition by entries.source, entries.task_id order by entries.transition_index
    ) as exited_at
from entries
left join floor.status_map as statuses
    on entries.source = statuses.source and lower(trim(entries.status)) = statuses.status_key;

create or replace table floor.task_facts as
with marked as (
    select
        *,
        lag(status_category) over task_order as previous_category,
        coalesce(
            max(case when status_category = 'done' then 1 else 0 end) over (
                task_order rows between unbounded preceding and 1 preceding
            ),
            0
        ) = 1 as was_done_before
    from floor.status_intervals
    window task_order as (partition by source, task_id order by interval_index)
),

milestones as (
    select
        source,
        task_id,
        max(case when exited_at is null then status_category end) as current_category,
        min(entered_at) as created_at,
        min(case when status_category in ('in_progress', 'waiting') then entered_at end)
            as started_at,
        max(
            case
                when status_category = 'done' and previous_category is distinct from 'done'
                    then entered_at
            end
        ) as last_entered_done_at,
        max(
            case
                when
                    status_category = 'cancelled'
                    and previous_category is distinct from 'cancelled'
                    then entered_at
            end
        ) as last_entered_cancelled_at,
        sum(
            case
                when
                    was_done_before
                    and previous_category in ('done', 'cancelled')
                    and status_category not in ('done', 'cancelled')
                    then 1
                else 0
            end
        ) as reopen_count
    from marked
    group by source, task_id
),

windows as (
    select
        milestones.*,
        teams.team,
        teams.time_zone,
        case when current_category = 'done' then last_entered_done_at end as completed_at,
        coalesce(
            case when current_category = 'done' then last_entered_done_at end,
            case when current_category = 'cancelled' then last_entered_cancelled_at end,
            teams.as_of_day_end_at
        ) as measured_until
    from milestones
    inner join floor.task_teams as teams
        on milestones.source = teams.source and milestones.task_id = teams.task_id
),

clipped as (
    select
        intervals.source,
        intervals.task_id,
        intervals.status_category,
        intervals.is_active,
        greatest(intervals.entered_at, windows.started_at) as clipped_start,
        least(coalesce(intervals.exited_at, windows.measured_until), windows.measured_until)
            as clipped_end
    from floor.status_intervals as intervals
    inner join windows
        on intervals.source = windows.source and intervals.task_id = windows.task_id
    where windows.started_at is not null
),

status_time as (
    select
        source,
        task_id,
        sum(case when is_active then epoch_us(clipped_end) - epoch_us(clipped_start) else 0 end)
            as active_microseconds,
        sum(
            case
                when not is_active and status_category in ('in_progress', 'waiting')
                    then epoch_us(clipped_end) - epoch_us(clipped_start)
                else 0
            end
        ) as wait_microseconds
    from clipped
    where clipped_end > clipped_start
    group by source, task_id
)

select
    windows.source || ':' || windows.task_id as task_key,
    windows.source,
    windows.task_id,
    windows.team,
    windows.time_zone,
    windows.current_category,
    windows.created_at,
    windows.started_at,
    windows.completed_at,
    windows.reopen_count,
    (epoch_us(windows.completed_at) - epoch_us(windows.created_at)) / 86400000000.0
        as lead_time_days,
    (epoch_us(windows.completed_at) - epoch_us(windows.started_at)) / 86400000000.0
        as cycle_time_days,
    coalesce(status_time.active_microseconds, 0) / 86400000000.0 as active_time_days,
    coalesce(status_time.wait_microseconds, 0) / 86400000000.0 as wait_time_days,
    case
        when windows.completed_at > windows.started_at
            then coalesce(status_time.active_microseconds, 0)
            / (epoch_us(windows.completed_at) - epoch_us(windows.started_at))
    end as flow_efficiency
from windows
left join status_time
    on windows.source = status_time.source and windows.task_id = status_time.task_id;

create or replace table floor.weekly_percentiles as
select
    team,
    cast(date_trunc('week', (completed_at at time zone 'UTC') at time zone time_zone) as date)
        as week_start,
    count(*) as throughput,
    quantile_cont(lead_time_days, 0.50) as lead_time_p50_days,
    quantile_cont(lead_time_days, 0.85) as lead_time_p85_days,
    quantile_cont(lead_time_days, 0.95) as lead_time_p95_days,
    quantile_cont(cycle_time_days, 0.50) as cycle_time_p50_days,
    quantile_cont(cycle_time_days, 0.85) as cycle_time_p85_days,
    quantile_cont(cycle_time_days, 0.95) as cycle_time_p95_days
from floor.task_facts
where completed_at is not null
group by all;
