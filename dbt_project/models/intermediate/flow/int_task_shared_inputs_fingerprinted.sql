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

workstream_rules as (

    select
        'stg_business__workstream_rules' as input_name,
        {{ row_fingerprint(ref('stg_business__workstream_rules'), 'stg_business__workstream_rules') }}
            as row_fingerprint

    from {{ ref('stg_business__workstream_rules') }}

),

workstreams as (

    select
        'stg_business__workstreams' as input_name,
        {{ row_fingerprint(ref('stg_business__workstreams'), 'stg_business__workstreams') }}
            as row_fingerprint

    from {{ ref('stg_business__workstreams') }}

),

outcomes as (

    select
        'stg_business__outcomes' as input_name,
        {{ row_fingerprint(ref('stg_business__outcomes'), 'stg_business__outcomes') }}
            as row_fingerprint

    from {{ ref('stg_business__outcomes') }}

),

business_rows as (

    select * from workstream_rules

    union all

    select * from workstreams

    union all

    select * from outcomes

),

-- an input without rows still gets its row, with count 0
business_inputs as (

    select 'stg_business__workstream_rules' as input_name
    union all
    select 'stg_business__workstreams'
    union all
    select 'stg_business__outcomes'

),

business_tables as (

    select
        business_inputs.input_name,
        '' as input_key,
        cast(coalesce(sum(business_rows.row_fingerprint), 0) as decimal(38, 0))
            as input_fingerprint,
        cast(count(business_rows.input_name) as {{ dbt.type_bigint() }}) as input_rows

    from business_inputs
    left join business_rows
        on business_inputs.input_name = business_rows.input_name
    group by business_inputs.input_name

),

final as (

    select * from status_mapping

    union all

    select * from business_tables

)

select * from final
