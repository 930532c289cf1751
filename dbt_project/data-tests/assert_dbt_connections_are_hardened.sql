-- The build's own connections are hardened like every connection of the project
-- (docs/privacy-and-security.md): TimeZone UTC, no file outside the warehouse and seeds folders,
-- configuration locked, no extension loaded on demand. The settings come from
-- `pipelines.lib.dbt_plugin`, named in profiles.yml; a profile that loses it fails this check
-- instead of running unguarded. On Spark, the session time zone (macros/connection_settings.sql).
-- Returns one row per setting with another value than required.
-- depends_on: {{ ref('stg_tracker__tasks') }}
{{ config(meta={'dagster': {'ref': {'name': 'stg_tracker__tasks'}}}) }}

with

required_settings as (

    {{ required_connection_settings_select() }}

),

actual_settings as (

    {{ actual_connection_settings() }}

)

select
    required_settings.setting_name,
    required_settings.required_value,
    actual_settings.actual_value
from required_settings
left join actual_settings
    on required_settings.setting_name = actual_settings.setting_name
where actual_settings.actual_value is distinct from required_settings.required_value
