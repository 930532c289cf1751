-- History consistency (docs/data-quality.md, "Blocking: history consistency"): every status
-- seen maps to a category through the `status_categories` seed: a task's current status and the
-- from- and to-status of each of its transitions, looked up the way int_task_statuses_mapped maps
-- them (case and surrounding spaces ignored, the most specific seed row wins; a winning row without
-- a category maps nothing). An unmapped status is never counted as anything, so every flow metric
-- of its tasks would be wrong. Returns one row per source, project, status and place it was seen,
-- with how many rows carry it and one task and landing file to look at. A transition without a
-- from-status (the source gave none) has no status to map there.
-- reads several models: Dagster shows it as a check of int_task_statuses_mapped
{{ config(meta={'dagster': {'ref': {'name': 'int_task_statuses_mapped'}}}) }}

with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

status_changes as (

    select * from {{ ref('stg_tracker__task_status_changes') }}

),

task_statuses as (

    select * from {{ ref('int_task_statuses_mapped') }}

),

-- transitions of a task missing from the task extract have no project to map by; they fail the
-- relationships test on the staging view instead
status_changes_with_project as (

    select
        status_changes.source,
        tasks.project,
        status_changes.task_id,
        status_changes.from_status,
        status_changes.to_status,
        status_changes.source_file

    from status_changes
    inner join tasks
        on
            status_changes.source = tasks.source
            and status_changes.task_id = tasks.task_id

),

statuses_seen as (

    select
        source,
        project,
        status,
        'current_status' as seen_as,
        task_id,
        source_file

    from tasks

    union all

    select
        source,
        project,
        from_status as status,
        'from_status' as seen_as,
        task_id,
        source_file

    from status_changes_with_project
    where from_status is not null

    union all

    select
        source,
        project,
        to_status as status,
        'to_status' as seen_as,
        task_id,
        source_file

    from status_changes_with_project

),

unmapped as (

    select statuses_seen.*
    from statuses_seen
    left join task_statuses
        on
            statuses_seen.source = task_statuses.source
            and statuses_seen.project is not distinct from task_statuses.project
            and {{ status_match_key('statuses_seen.status') }} = task_statuses.status_key
    where task_statuses.status_category is null

),

-- one row per unmapped status and place, with the first task (and its file) that carries it
unmapped_with_counts as (

    select
        source,
        project,
        status,
        seen_as,
        count(*) over (partition by source, project, status, seen_as) as row_count,
        task_id as example_task_id,
        source_file as example_source_file

    from unmapped
    qualify row_number() over (
        partition by source, project, status, seen_as
        order by task_id, source_file
    ) = 1

)

select * from unmapped_with_counts
