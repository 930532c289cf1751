{#- The key a status name is matched on: case and surrounding spaces ignored
    (docs/input-contract.md, "Canonical files"), so that "In progress", "in progress " and "In
    Progress" map through the same seed row. -#}
{% macro status_match_key(status) -%}
    lower(trim({{ status }}))
{%- endmacro %}


{#- The status categories every flow mart knows, in board order, with whether a task in the
    category counts as work in progress (docs/metrics.md, "WIP": in_progress or waiting). Daily
    counts are written for each of them, so that a category nobody is in shows a zero rather than a
    hole. -#}
{% macro flow_status_categories() -%}
    {{ return([
        {'category': 'todo', 'is_wip': false},
        {'category': 'in_progress', 'is_wip': true},
        {'category': 'waiting', 'is_wip': true},
        {'category': 'done', 'is_wip': false},
        {'category': 'cancelled', 'is_wip': false},
    ]) }}
{%- endmacro %}
