-- The inputs every task's history depends on, fingerprinted (grain: input_name x input_key):
-- - the status mapping (int_task_statuses_mapped), which the mapped transitions and the intervals
--   read: one row per mapped status (input_key: source, project and status key). Each mapping row
--   depends only on its own status and the seed, and a status is seen only in the rows of the
--   tasks that have it: a status seen for the first time, or no longer, belongs to tasks rebuilt
--   anyway. A status whose mapping row changed rebuilds every task;
-- - the business definitions that give a task its workstream and outcome (workstream rules,
--   workstreams, outcomes): one row each, for the whole table (input_key ''). Any change
--   rebuilds every task.
-- int_tasks_to_rebuild compares them with those of the build this one started from (the source
-- previous_build). The seeds (status categories, teams) are code: a change of the code starts the
-- build from nothing (pipelines/lib/carry_over.py).
{%- set business_models = [
    'stg_business__workstream_rules', 'stg_business__workstreams', 'stg_business__outcomes'
] %}

with

status_mapping as (

    select
        'int_task_statuses_mapped' as input_name,
        source || ':' || coalesce(project, '') || ':' || status_key as input_key,
        {{ row_fingerprint(ref('int_task_statuses_mapped'), 'int_task_statuses_mapped') }}
            as input_fingerprint,
        cast(1 as {{ dbt.type_bigint() }}) as input_rows

    from {{ ref('int_task_statuses_mapped') }}

),

-- one row per business table, with count 0 and fingerprint 0 when it has no rows
business_tables as (

    {% for model in business_models -%}
        select
            '{{ model }}' as input_name,
            '' as input_key,
            cast(coalesce(sum({{ row_fingerprint(ref(model), model) }}), 0) as decimal(38, 0))
                as input_fingerprint,
            cast(count(*) as {{ dbt.type_bigint() }}) as input_rows
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from status_mapping

    union all

    select * from business_tables

)

select * from final
