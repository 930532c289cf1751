-- One row per KPI × segment × month that has observations up to the run's as_of date. The month's
-- value follows the KPI's aggregation rule; observations after as_of are not known to the run.
with

observations as (

    select * from {{ ref('stg_impact__kpi_observations') }}

),

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

observations_to_date as (

    select
        kpi_id,
        segment,
        observed_on,
        observed_value,
        -- a date belongs to the month that starts on or before it: [month start, next month start)
        {{ month_start('observed_on') }} as month

    from observations

    where observed_on <= {{ as_of_date() }}

),

ranked_within_month as (

    select
        *,
        -- staging keeps one observation per KPI, segment and day, so rank 1 is a single row
        row_number() over (
            partition by kpi_id, segment, month
            order by observed_on desc
        ) as recency_rank

    from observations_to_date

),

monthly as (

    select
        kpi_id,
        segment,
        month,

        -- observation span
        count(*) as observation_count,
        min(observed_on) as first_observed_on,
        max(observed_on) as last_observed_on,

        -- candidate values, one per aggregation rule
        max(case when recency_rank = 1 then observed_value end) as last_value,
        avg(observed_value) as average_value,
        sum(observed_value) as total_value

    from ranked_within_month

    group by kpi_id, segment, month

),

final as (

    select
        -- ids
        monthly.kpi_id,
        monthly.segment,
        monthly.month,

        -- observation span
        monthly.observation_count,
        monthly.first_observed_on,
        monthly.last_observed_on,

        -- measures
        kpis.aggregation,
        monthly.last_value,
        monthly.average_value,
        monthly.total_value,
        case kpis.aggregation
            when 'last' then monthly.last_value
            when 'avg' then monthly.average_value
            when 'sum' then monthly.total_value
        end as monthly_value

    from monthly

    -- the aggregation rule comes from the KPI definition; an observation of an undefined KPI has
    -- none (the relationship test on fct_kpi_observations reports it)
    inner join kpis
        on monthly.kpi_id = kpis.kpi_id

)

select * from final
