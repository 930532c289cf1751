{#- The reporting date of the run: var `as_of` (YYYY-MM-DD) or the current UTC date.
    The value is validated before it reaches SQL. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of') -%}
    {%- if as_of -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of | string) -%}
            {{ exceptions.raise_compiler_error("var 'as_of' must be a date YYYY-MM-DD, got: " ~ as_of) }}
        {%- endif -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
