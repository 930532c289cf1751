{#- The reporting date of the run: var `as_of` (YYYY-MM-DD), else the environment's OWH_AS_OF (how
    `owh run` passes it), else the current UTC date. The value is validated before it reaches SQL.
    OWH_AS_OF is read only while nodes execute: read while parsing, a new date would make dbt parse
    the whole project again, as a new `--vars` value does. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of') or (env_var('OWH_AS_OF', '') if execute else '') -%}
    {%- if as_of -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
            {{ exceptions.raise_compiler_error("as_of must be a date YYYY-MM-DD, got: " ~ as_of) }}
        {%- endif -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
