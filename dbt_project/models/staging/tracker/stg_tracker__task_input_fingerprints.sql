-- One row per task (grain: source x task_id, trimmed as the staging models key them) with a
-- fingerprint of every landed row about it: each version of it in the task extract, its status
-- changes and its flags, every column (lineage included). A task whose fingerprint and row count
-- equal the previous build's has exactly the landed rows it had then, so its staged rows are the
-- same: the incremental staging models keep them (stg_tracker__changed_tasks).
{%- set landed_tables = ['tasks', 'task_status_changes', 'task_flags'] %}

with

landed_rows as (

    {% for table in landed_tables -%}
        select
            trim(source) as source,
            trim(task_id) as task_id,
            {{ row_fingerprint(source('tracker', table), table) }} as row_fingerprint
        from {{ source('tracker', table) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        -- keys
        source || ':' || task_id as task_key,
        source,
        task_id,

        -- fingerprint
        cast(sum(row_fingerprint) as decimal(38, 0)) as input_fingerprint,
        cast(count(*) as {{ dbt.type_bigint() }}) as input_rows

    from landed_rows
    group by source, task_id

)

select * from final
