-- The build's own connections are hardened like every connection of the project
-- (docs/privacy-and-security.md): TimeZone UTC, no file outside the warehouse and seeds folders,
-- configuration locked, no extension loaded on demand. The settings come from
-- `pipelines.lib.dbt_plugin`, named in profiles.yml; a profile that loses it fails this check
-- instead of running unguarded. Returns one row per setting with another value than required.
-- depends_on: {{ ref('stg_tracker__tasks') }}
{{ config(meta={'dagster': {'ref': {'name': 'stg_tracker__tasks'}}}) }}

with

required_settings (setting_name, required_value) as (

    values
    ('TimeZone', 'UTC'),
    ('enable_external_access', 'false'),
    ('lock_configuration', 'true'),
    ('autoload_known_extensions', 'false'),
    ('autoinstall_known_extensions', 'false')

),

actual_settings as (

    select
        name as setting_name,
        value as actual_value
    from duckdb_settings()

)

select
    required_settings.setting_name,
    required_settings.required_value,
    actual_settings.actual_value
from required_settings
left join actual_settings
    on required_settings.setting_name = actual_settings.setting_name
where actual_settings.actual_value is distinct from required_settings.required_value
