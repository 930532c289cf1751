{#- Numbers as a leader reads them in the review's sentences. Formatting is engine-specific, so
    number_text goes through adapter.dispatch; the others build on it. -#}

{#- `value` with `decimals` decimals (an integer expression) and thousands separators: 123,457 or
    3.46. A value that rounds to zero prints without a minus sign. -#}
{% macro number_text(value, decimals) -%}
    {{ return(adapter.dispatch('number_text', 'outcome_warehouse')(value, decimals)) }}
{%- endmacro %}

{% macro default__number_text(value, decimals) -%}
    cast(round({{ value }}, {{ decimals }}) + 0.0 as {{ dbt.type_string() }})
{%- endmacro %}

{#- Adding 0.0 turns a rounded -0.0 into 0.0, which the format prints without its sign. -#}
{% macro duckdb__number_text(value, decimals) -%}
    format('{:,.' || cast({{ decimals }} as varchar) || 'f}', round({{ value }}, {{ decimals }}) + 0.0)
{%- endmacro %}


{#- A change with its sign: +0.06, -1,200, 0.00. -#}
{% macro signed_number_text(value, decimals) -%}
    case when round({{ value }}, {{ decimals }}) > 0 then '+' else '' end
    || {{ number_text(value, decimals) }}
{%- endmacro %}


{#- A share as a whole percentage: 0.434 gives 43%. -#}
{% macro percent_text(share) -%}
    cast(cast(round({{ share }} * 100) as integer) as {{ dbt.type_string() }}) || '%'
{%- endmacro %}
