-- History consistency (docs/data-quality.md, "Blocking: history consistency"): no status transition
-- happens before its task was created, beyond the tolerance var
-- `transition_before_creation_tolerance_minutes` (clock skew between a tracker's issue and
-- changelog services). Within the tolerance the intervals take the transition at creation.
with

status_changes as (

    select * from {{ ref('int_status_changes_mapped') }}

)

select
    source,
    task_id,
    transition_index,
    task_created_at,
    changed_at

from status_changes
where
    changed_at < {{ dbt.dateadd(
        'minute',
        -1 * var('transition_before_creation_tolerance_minutes') | int,
        'task_created_at'
    ) }}
