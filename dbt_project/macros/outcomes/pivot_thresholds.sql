{#- The one row of a threshold seed (`threshold_name`, `threshold_value`, one row per threshold):
    each threshold of `thresholds`, a list of (name, type) pairs, becomes a column of that name
    and type. A threshold missing from the seed is null, for the not-null tests to catch. -#}
{% macro pivot_thresholds(relation, thresholds) %}
    select
        {%- for name, type in thresholds %}
        max(case when threshold_name = '{{ name }}' then cast(threshold_value as {{ type }}) end)
            as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ relation }}
{% endmacro %}
