{#- The settings every connection of a build must have (data test
    assert_dbt_connections_are_hardened), as (name, value) pairs, and a select of the
    connection's actual values (setting_name, actual_value). What can be set and read differs by
    engine: DuckDB's connections are locked down by pipelines.lib.dbt_plugin and list their
    settings in duckdb_settings(); a Spark session is configured by the profile
    (server_side_parameters) and its SQL can read back only the session time zone. -#}
{% macro required_connection_settings() -%}
    {{ return(adapter.dispatch('required_connection_settings', 'outcome_warehouse')()) }}
{%- endmacro %}

{% macro default__required_connection_settings() -%}
    {{ exceptions.raise_compiler_error(
        "required_connection_settings has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__required_connection_settings in macros/connection_settings.sql") }}
{%- endmacro %}

{% macro duckdb__required_connection_settings() -%}
    {{ return([
        ('TimeZone', 'UTC'),
        ('enable_external_access', 'false'),
        ('lock_configuration', 'true'),
        ('autoload_known_extensions', 'false'),
        ('autoinstall_known_extensions', 'false'),
    ]) }}
{%- endmacro %}

{% macro spark__required_connection_settings() -%}
    {{ return([('TimeZone', 'UTC')]) }}
{%- endmacro %}


{#- The required settings as a select of (setting_name, required_value). -#}
{% macro required_connection_settings_select() -%}
    {%- for setting_name, required_value in required_connection_settings() %}
    select
        '{{ setting_name }}' as setting_name,
        '{{ required_value }}' as required_value
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{% macro actual_connection_settings() -%}
    {{ return(adapter.dispatch('actual_connection_settings', 'outcome_warehouse')()) }}
{%- endmacro %}

{% macro default__actual_connection_settings() -%}
    {{ exceptions.raise_compiler_error(
        "actual_connection_settings has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__actual_connection_settings in macros/connection_settings.sql") }}
{%- endmacro %}

{% macro duckdb__actual_connection_settings() -%}
    select
        name as setting_name,
        value as actual_value
    from duckdb_settings()
{%- endmacro %}

{% macro spark__actual_connection_settings() -%}
    select
        'TimeZone' as setting_name,
        current_timezone() as actual_value
{%- endmacro %}
