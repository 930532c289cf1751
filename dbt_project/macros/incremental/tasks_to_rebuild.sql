{#- Incremental task history (docs/incremental.md).

    The models whose cost grows with the whole history of every task (staging of tasks and
    transitions, mapped transitions, status intervals, their local days, the workstream of each
    task) are incremental on DuckDB: a nightly build starts from the tables of the published build
    (copied into the new build file before dbt runs, pipelines/lib/carry_over.py), deletes the rows
    of the tasks to rebuild and inserts them again, computed from this build's inputs. Every row of
    these models depends on one task's own landed rows and on a few inputs shared by every task, so
    a task whose landed rows and shared inputs are unchanged keeps rows equal to a full build's.
    Which tasks are rebuilt: stg_tracker__changed_tasks for the staging models, int_tasks_to_rebuild
    for the models after them. On any other engine these models are plain tables. -#}


{#- The materialization of an incremental task model: incremental on DuckDB, a table elsewhere
    (Spark stores the project's tables as Parquet, which cannot delete rows). -#}
{% macro task_history_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}


{#- The task key of a staging model's row: its trimmed source and task_id. -#}
{% macro staged_task_key() -%}
    source || ':' || task_id
{%- endmacro %}


{#- Whether the model runs incrementally. dbt's is_incremental looks the model's relation up
    through `this`, which a dbt unit test does not have unless it gives one (with the macro
    overridden to true): without it, a unit test checks the full build. -#}
{% macro is_incremental_run() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}


{#- A filter on the task key `key` (an expression of the model's rows): in an incremental run,
    only the tasks listed in `tasks_to_rebuild` (a relation with a task_key column); in a full build,
    every row. -#}
{% macro is_task_to_rebuild(key, tasks_to_rebuild) -%}
    {%- if is_incremental_run() -%}
        {{ key }} in (select task_key from {{ tasks_to_rebuild }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- The pre-hook of an incremental task model: before the rebuilt rows are inserted, delete every
    row of the tasks to rebuild (gone tasks included, which get no new rows). Empty in a full
    build. -#}
{% macro delete_tasks_to_rebuild(key, tasks_to_rebuild) -%}
    {%- if is_incremental_run() -%}
        delete from {{ this }} where {{ is_task_to_rebuild(key, tasks_to_rebuild) }}
    {%- endif -%}
{%- endmacro %}


{#- A fingerprint of one row of `relation`: a hash of `tag` and of every column, read from the
    relation when the model runs, as a decimal(38, 0) that sums without overflow. Summed over a
    task's rows it changes when any of them changes, is added or goes. -#}
{% macro row_fingerprint(relation, tag) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'outcome_warehouse')(relation, tag)) }}
{%- endmacro %}

{% macro default__row_fingerprint(relation, tag) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    cast(hash('{{ tag }}'{% for column in columns %}, {{ adapter.quote(column.name) }}{% endfor %}) as decimal(38, 0))
{%- endmacro %}

{% macro spark__row_fingerprint(relation, tag) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    cast(xxhash64('{{ tag }}'{% for column in columns %}, {{ adapter.quote(column.name) }}{% endfor %}) as decimal(38, 0))
{%- endmacro %}
