-- One row per status name seen on a task or a transition, per source and project, with the
-- `status_categories` seed row that maps it. Names match ignoring case and surrounding spaces;
-- among matching rows the most specific wins (source and project, then project, then source,
-- then any). A status no row matches keeps a null category, and the not-null test of the model fails
-- the build: an unmapped status is never counted as anything.
with

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

status_changes as (

    select * from {{ ref('stg_tracker__task_status_changes') }}

),

status_categories as (

    select * from {{ ref('status_categories') }}

),

status_changes_with_project as (

    select
        status_changes.source,
        tasks.project,
        status_changes.from_status,
        status_changes.to_status

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
        status

    from tasks

    union all

    select
        source,
        project,
        to_status as status

    from status_changes_with_project

    union all

    select
        source,
        project,
        from_status as status

    from status_changes_with_project
    where from_status is not null

),

status_keys as (

    select distinct
        source,
        project,
        {{ status_match_key('status') }} as status_key

    from statuses_seen

),

seed_rows as (

    select
        {{ status_match_key('status') }} as status_key,
        nullif(lower(trim(source)), '') as match_source,
        nullif(lower(trim(project)), '') as match_project,
        category as status_category,
        is_active,
        is_blocked,
        workflow_column,
        column_order

    from status_categories

),

candidate_matches as (

    select
        status_keys.source,
        status_keys.project,
        status_keys.status_key,
        seed_rows.status_category,
        seed_rows.is_active,
        seed_rows.is_blocked,
        seed_rows.workflow_column,
        seed_rows.column_order,
        -- a project is narrower than a source, so it weighs more
        (case when seed_rows.match_project is not null then 2 else 0 end)
        + (case when seed_rows.match_source is not null then 1 else 0 end) as match_specificity

    from status_keys
    inner join seed_rows
        on
            status_keys.status_key = seed_rows.status_key
            and (
                seed_rows.match_source is null
                or seed_rows.match_source = lower(status_keys.source)
            )
            and (
                seed_rows.match_project is null
                or seed_rows.match_project = lower(trim(status_keys.project))
            )

),

best_matches as (

    select {{ star_except(['row_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by source, project, status_key
                order by match_specificity desc
            ) as row_rank
        from candidate_matches
    ) as ranked
    where row_rank = 1

),

final as (

    select
        -- keys
        status_keys.source,
        status_keys.project,
        status_keys.status_key,

        -- mapping
        best_matches.status_category,
        best_matches.is_active,
        best_matches.is_blocked,
        best_matches.workflow_column,
        best_matches.column_order,
        best_matches.match_specificity

    from status_keys
    left join best_matches
        on
            status_keys.source = best_matches.source
            and status_keys.project is not distinct from best_matches.project
            and status_keys.status_key = best_matches.status_key

)

select * from final
