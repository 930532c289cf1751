{#- The weekly flow measures, defined once for mart_flow_weekly (per team) and
    mart_flow_weekly_by_workstream (per workstream). The caller's model defines three CTEs, each
    keyed by `key` (the mart's grain besides the week) and `week_start` (a Monday, in the team's
    time zone):

    - `weeks`: one row per key and week (the mart's rows), with `avg_daily_wip`;
    - `completed`: one row per completed task, with `flow_item_type`, `lead_time_days`,
      `cycle_time_days`, `active_time_days` and `blocked_time_days`, in the week it was completed;
    - `started`: one row per started task, in the week it was started (the week's arrivals).

    The macro adds the CTEs that measure them and ends with `final`, the mart's rows in contract
    order; the model selects from it. -#}
{% macro weekly_flow_measures(key, weeks, completed, started) %}
completions as (

    select
        {{ key }},
        week_start,
        flow_item_type,
        lead_time_days,
        cycle_time_days,
        -- whole microseconds, summed exactly whatever the order of addition
        {{ days_to_microseconds('cycle_time_days') }} as cycle_time_microseconds,
        case
            when cycle_time_days is not null then {{ days_to_microseconds('active_time_days') }}
        end as active_time_microseconds,
        {{ days_to_microseconds('blocked_time_days') }} as blocked_time_microseconds

    from {{ completed }}

),

weekly_completions as (

    select
        {{ key }},
        week_start,
        count(*) as throughput,
        {{ flow_time_percentiles() }},
        -- ratio of sums over the completions that have a cycle time
        sum(active_time_microseconds) as active_time_microseconds,
        sum(cycle_time_microseconds) as cycle_time_microseconds,
        sum(blocked_time_microseconds) as blocked_time_microseconds,
        sum(case when flow_item_type = 'feature' then 1 else 0 end) as feature_throughput,
        sum(case when flow_item_type = 'defect' then 1 else 0 end) as defect_throughput,
        sum(case when flow_item_type = 'debt' then 1 else 0 end) as debt_throughput,
        sum(case when flow_item_type = 'risk' then 1 else 0 end) as risk_throughput

    from completions
    group by {{ key }}, week_start

),

-- the same percentiles over the completions of the week and the eleven weeks before it: a
-- steadier signal than one week's handful of completions
trailing_completions as (

    select
        {{ weeks }}.{{ key }},
        {{ weeks }}.week_start,
        {{ flow_time_percentiles('_trailing_12w') }}

    from {{ weeks }}
    inner join completions
        on
            {{ weeks }}.{{ key }} = completions.{{ key }}
            and {{ weeks }}.week_start >= completions.week_start
            and {{ weeks }}.week_start < {{ dbt.dateadd('week', 12, 'completions.week_start') }}
    group by {{ weeks }}.{{ key }}, {{ weeks }}.week_start

),

weekly_arrivals as (

    select
        {{ key }},
        week_start,
        count(*) as arrivals

    from {{ started }}
    group by {{ key }}, week_start

),

final as (

    select
        -- keys
        {{ weeks }}.week_start,
        {{ weeks }}.{{ key }},

        -- flow
        cast(coalesce(weekly_completions.throughput, 0) as bigint) as throughput,
        cast(coalesce(weekly_arrivals.arrivals, 0) as bigint) as arrivals,
        cast(
            coalesce(weekly_arrivals.arrivals, 0) - coalesce(weekly_completions.throughput, 0)
            as bigint
        ) as net_flow,

        -- lead and cycle time percentiles, in days
        weekly_completions.lead_time_p50_days,
        weekly_completions.lead_time_p85_days,
        weekly_completions.lead_time_p95_days,
        weekly_completions.cycle_time_p50_days,
        weekly_completions.cycle_time_p85_days,
        weekly_completions.cycle_time_p95_days,
        trailing_completions.lead_time_p50_days_trailing_12w,
        trailing_completions.lead_time_p85_days_trailing_12w,
        trailing_completions.lead_time_p95_days_trailing_12w,
        trailing_completions.cycle_time_p50_days_trailing_12w,
        trailing_completions.cycle_time_p85_days_trailing_12w,
        trailing_completions.cycle_time_p95_days_trailing_12w,

        -- work in progress and efficiency
        cast({{ weeks }}.avg_daily_wip as {{ type_double() }}) as avg_daily_wip,
        case
            when weekly_completions.cycle_time_microseconds > 0
                then
                    cast(weekly_completions.active_time_microseconds as {{ type_double() }})
                    / weekly_completions.cycle_time_microseconds
        end as flow_efficiency,

        -- flow distribution
        cast(coalesce(weekly_completions.feature_throughput, 0) as bigint) as feature_throughput,
        cast(coalesce(weekly_completions.defect_throughput, 0) as bigint) as defect_throughput,
        cast(coalesce(weekly_completions.debt_throughput, 0) as bigint) as debt_throughput,
        cast(coalesce(weekly_completions.risk_throughput, 0) as bigint) as risk_throughput,
        {% for flow_item_type in ['feature', 'defect', 'debt', 'risk'] -%}
            cast(weekly_completions.{{ flow_item_type }}_throughput as {{ type_double() }})
            / nullif(weekly_completions.throughput, 0) as {{ flow_item_type }}_share,
        {% endfor %}
        -- blocked time carried by the week's completions
        {{ microseconds_to_days('coalesce(weekly_completions.blocked_time_microseconds, 0)') }}
            as blocked_days

    from {{ weeks }}
    left join weekly_completions
        on
            {{ weeks }}.{{ key }} = weekly_completions.{{ key }}
            and {{ weeks }}.week_start = weekly_completions.week_start
    left join trailing_completions
        on
            {{ weeks }}.{{ key }} = trailing_completions.{{ key }}
            and {{ weeks }}.week_start = trailing_completions.week_start
    left join weekly_arrivals
        on
            {{ weeks }}.{{ key }} = weekly_arrivals.{{ key }}
            and {{ weeks }}.week_start = weekly_arrivals.week_start

)
{% endmacro %}
