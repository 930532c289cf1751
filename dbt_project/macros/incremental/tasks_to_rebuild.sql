{#- Incremental task history (docs/incremental.md).

    The models whose cost grows with the whole history of every task (staging of tasks and
    transitions, mapped transitions, status intervals, their local days and their measure to the
    as_of day, the workstream of each task, its milestones and time sums) are incremental on
    DuckDB: a nightly build starts from the tables of the published build (copied into the new
    build file before dbt runs, pipelines/lib/carry_over.py), deletes the rows of the tasks to
    rebuild and inserts them again, computed from this build's inputs. Every row of these models
    depends on one task's own landed rows and on a few inputs shared by every task, so a task
    whose landed rows and shared inputs are unchanged keeps rows equal to a full build's. Which
    tasks are rebuilt: stg_tracker__changed_tasks for the staging models, int_tasks_to_rebuild
    for the models after them. The rows that also read the as_of date are rebuilt every night
    too: each task's current interval measured to the as_of day, and the milestones and time sums
    of every open task; and the milestones of every task when the business-day calendar their
    positions count from starts on another day. On any other engine these models are plain
    tables. -#}


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
    row of the tasks to rebuild (gone tasks included, which get no new rows), and, when `also`
    is given, every row it holds true for: a condition on the model's own rows for those that
    depend on more than their task's landed rows and the shared inputs (an open task's time runs
    to the as_of day). A model with `also` selects again what that deleted: per task, the tasks
    left without a row (is_task_without_rows); per row, the same condition on its input
    (is_current_interval). Empty in a full build. -#}
{% macro delete_tasks_to_rebuild(key, tasks_to_rebuild, also=none) -%}
    {%- if is_incremental_run() -%}
        delete from {{ this }} where {{ is_task_to_rebuild(key, tasks_to_rebuild) }}
        {%- if also %} or ({{ also }}){% endif %}
    {%- endif -%}
{%- endmacro %}


{#- A filter on the task key `key` (an expression of the model's inputs) for a model whose
    pre-hook deletes more than the listed tasks: in an incremental run, the tasks that have no row
    left in the model's table (deleted by the pre-hook, or never built); in a full build, every
    row. -#}
{% macro is_task_without_rows(key) -%}
    {%- if is_incremental_run() -%}
        {{ key }} not in (select task_key from {{ this }})
    {%- else -%}
        true
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


{#- Whether a row of int_status_intervals_aggregated_to_tasks is an open task's, whose
    measured_until is the end of the as_of day: its time changes with the as_of date. -#}
{% macro is_measured_to_as_of_day() -%}
    (completed_at is null and cancelled_at is null)
{%- endmacro %}


{#- The condition, on rows of int_status_intervals_aggregated_to_tasks, of the milestones a
    nightly build computes again besides the tasks to rebuild: an open task's, and every task's
    when the business-day calendar `team_days` starts on another day than the one its positions
    count from. -#}
{% macro task_milestones_not_kept(team_days) -%}
    {{ is_measured_to_as_of_day() }}
    or business_calendar_starts_on is distinct from (select min(calendar_date) from {{ team_days }})
{%- endmacro %}


{#- The condition, on rows keyed by task_key, of the time sums a nightly build computes again
    besides the tasks to rebuild: the open tasks' of `task_milestones`
    (int_status_intervals_aggregated_to_tasks). -#}
{% macro task_times_not_kept(task_milestones) -%}
    task_key in (select task_key from {{ task_milestones }} where {{ is_measured_to_as_of_day() }})
{%- endmacro %}


{#- Whether a status interval (a row with exited_at) is its task's current one, open and measured
    to the end of the as_of day: the intervals measured to the as_of day rebuild it every night,
    besides every interval of the tasks to rebuild. -#}
{% macro is_current_interval() -%}
    exited_at is null
{%- endmacro %}
