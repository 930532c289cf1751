{#- Numbers as a leader reads them in the review's sentences. Formatting is engine-specific, so
    number_text goes through adapter.dispatch; the others build on it. -#}

{#- `value` with `decimals` decimals (an integer expression) and thousands separators: 123,457 or
    3.46. A value that rounds to zero prints without a minus sign. -#}
{% macro number_text(value, decimals) -%}
    {{ return(adapter.dispatch('number_text', 'outcome_warehouse')(value, decimals)) }}
{%- endmacro %}

{% macro default__number_text(value, decimals) -%}
    {{ exceptions.raise_compiler_error(
        "number_text has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__number_text in macros/outcomes/text.sql") }}
{%- endmacro %}

{#- Adding 0.0 turns a rounded -0.0 into 0.0, which the format prints without its sign. -#}
{% macro duckdb__number_text(value, decimals) -%}
    format('{:,.' || cast({{ decimals }} as {{ dbt.type_string() }}) || 'f}', round({{ value }}, {{ decimals }}) + 0.0)
{%- endmacro %}

{#- format_number rounds half to even, so the value is rounded (half up, like DuckDB's round)
    before it is formatted with the same decimals. -#}
{% macro spark__number_text(value, decimals) -%}
    format_number({{ round_to_decimals(value, decimals) }} + 0.0, {{ decimals }})
{%- endmacro %}


{#- `value` rounded to `decimals` decimals, an integer expression from 0 to 6 (a column, say). Spark's
    round needs a constant scale, so it gets one branch per scale. -#}
{% macro round_to_decimals(value, decimals) -%}
    {{ return(adapter.dispatch('round_to_decimals', 'outcome_warehouse')(value, decimals)) }}
{%- endmacro %}

{% macro default__round_to_decimals(value, decimals) -%}
    {{ exceptions.raise_compiler_error(
        "round_to_decimals has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__round_to_decimals in macros/outcomes/text.sql") }}
{%- endmacro %}

{% macro duckdb__round_to_decimals(value, decimals) -%}
    round({{ value }}, {{ decimals }})
{%- endmacro %}

{% macro spark__round_to_decimals(value, decimals) -%}
    {%- if decimals is number -%}
        round({{ value }}, {{ decimals }})
    {%- else -%}
        case {{ decimals }}
            {%- for scale in range(7) %}
            when {{ scale }} then round({{ value }}, {{ scale }})
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}


{#- A change with its sign: +0.06, -1,200, 0.00. -#}
{% macro signed_number_text(value, decimals) -%}
    case when {{ round_to_decimals(value, decimals) }} > 0 then '+' else '' end
    || {{ number_text(value, decimals) }}
{%- endmacro %}


{#- A share as a whole percentage: 0.434 gives 43%. -#}
{% macro percent_text(share) -%}
    cast(cast(round({{ share }} * 100) as integer) as {{ dbt.type_string() }}) || '%'
{%- endmacro %}
