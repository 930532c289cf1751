-- History consistency (docs/data-quality.md, "Blocking: history consistency"): the number of
-- transitions loaded equals the number in the source files, at both steps a transition can be lost.
--
-- 1. Ingestion: per landing file, the transitions it held as counted by its adapter when it was
--    read (`raw.load_log.rows_read` of table task_status_changes: a Jira page counts each status
--    item of a loaded issue's changelog, a canonical file each data row) equal the file's rows in
--    raw.task_status_changes plus its rows in raw.quarantine. A file with rows but no log entry
--    counts as having held none.
-- 2. Modelling: every transition the staging view keeps from a file (it keeps an identical
--    transition once, from the latest file) reaches int_status_changes_mapped, unless its task is
--    missing from the task extract: the relationships test on the staging view reports those.
--
-- Returns one row per file and checked table where the counts disagree.
-- reads several models: Dagster shows it as a check of int_status_changes_mapped
{{ config(meta={'dagster': {'ref': {'name': 'int_status_changes_mapped'}}}) }}

{#- The load log and the quarantine are written by every ingest asset, so they are no one asset's
    source table: they are read from the schema the raw transitions are declared in. -#}
{%- set raw_status_changes_relation = source('tracker', 'task_status_changes') -%}
{%- set load_log_relation = api.Relation.create(
    database=raw_status_changes_relation.database,
    schema=raw_status_changes_relation.schema,
    identifier='load_log'
) -%}
{%- set quarantine_relation = api.Relation.create(
    database=raw_status_changes_relation.database,
    schema=raw_status_changes_relation.schema,
    identifier='quarantine'
) -%}

with

load_log as (

    select * from {{ load_log_relation }}

),

quarantine as (

    select * from {{ quarantine_relation }}

),

raw_status_changes as (

    select * from {{ raw_status_changes_relation }}

),

tasks as (

    select * from {{ ref('stg_tracker__tasks') }}

),

status_changes as (

    select * from {{ ref('stg_tracker__task_status_changes') }}

),

mapped_status_changes as (

    select * from {{ ref('int_status_changes_mapped') }}

),

transitions_in_files as (

    select
        source_file,
        sum(rows_read) as transition_count

    from load_log
    where table_name = 'task_status_changes'
    group by source_file

),

transitions_loaded as (

    select
        _source_file as source_file,
        count(*) as transition_count

    from raw_status_changes
    group by _source_file

),

transitions_quarantined as (

    select
        source_file,
        count(*) as transition_count

    from quarantine
    where table_name = 'task_status_changes'
    group by source_file

),

ingested_files as (

    select source_file from transitions_in_files
    union
    select source_file from transitions_loaded
    union
    select source_file from transitions_quarantined

),

ingestion_mismatches as (

    select
        ingested_files.source_file,
        'raw.task_status_changes' as checked_table,
        coalesce(transitions_in_files.transition_count, 0) as expected_transitions,
        coalesce(transitions_loaded.transition_count, 0)
        + coalesce(transitions_quarantined.transition_count, 0) as found_transitions,
        coalesce(transitions_quarantined.transition_count, 0) as found_quarantined

    from ingested_files
    left join transitions_in_files
        on ingested_files.source_file = transitions_in_files.source_file
    left join transitions_loaded
        on ingested_files.source_file = transitions_loaded.source_file
    left join transitions_quarantined
        on ingested_files.source_file = transitions_quarantined.source_file
    where
        coalesce(transitions_in_files.transition_count, 0)
        <> coalesce(transitions_loaded.transition_count, 0)
        + coalesce(transitions_quarantined.transition_count, 0)

),

transitions_kept as (

    select
        status_changes.source_file,
        count(*) as transition_count

    from status_changes
    inner join tasks
        on
            status_changes.source = tasks.source
            and status_changes.task_id = tasks.task_id
    group by status_changes.source_file

),

transitions_mapped as (

    select
        source_file,
        count(*) as transition_count

    from mapped_status_changes
    group by source_file

),

modelling_mismatches as (

    select
        coalesce(transitions_kept.source_file, transitions_mapped.source_file) as source_file,
        'int_status_changes_mapped' as checked_table,
        coalesce(transitions_kept.transition_count, 0) as expected_transitions,
        coalesce(transitions_mapped.transition_count, 0) as found_transitions,
        cast(null as bigint) as found_quarantined

    from transitions_kept
    full outer join transitions_mapped
        on transitions_kept.source_file = transitions_mapped.source_file
    where
        coalesce(transitions_kept.transition_count, 0)
        <> coalesce(transitions_mapped.transition_count, 0)

),

mismatches as (

    select * from ingestion_mismatches
    union all
    select * from modelling_mismatches

)

select * from mismatches
