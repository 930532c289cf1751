{#- The day-by-day changes in how many tasks each group has, from intervals localised to days
    (`int_status_intervals_localised_to_days` or a filtered CTE of it): +1 on the first local day
    an interval covers, -1 on the first day it no longer covers, summed per group and day as
    `task_count_change`. A running sum of it over a calendar gives the count at each day's end.
    Intervals that cover no day end (entered and left within one day) change nothing. -#}
{% macro daily_task_count_changes(intervals, group_columns) -%}
    select
        {% for column in group_columns -%}
            {{ column }},
        {% endfor -%}
        change_on,
        sum(task_count_change) as task_count_change

    from (
        select
            {% for column in group_columns -%}
                {{ column }},
            {% endfor -%}
            first_day_covered as change_on,
            1 as task_count_change

        from {{ intervals }}
        where first_day_not_covered is null or first_day_not_covered > first_day_covered

        union all

        select
            {% for column in group_columns -%}
                {{ column }},
            {% endfor -%}
            first_day_not_covered as change_on,
            -1 as task_count_change

        from {{ intervals }}
        where first_day_not_covered > first_day_covered
    ) as coverage_changes

    group by
        {% for column in group_columns -%}
            {{ column }},
        {% endfor -%}
        change_on
{%- endmacro %}
