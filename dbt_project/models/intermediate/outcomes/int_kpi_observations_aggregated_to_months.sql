-- One row per KPI × segment × month that has observations up to the run's as_of date. The month's
-- value follows the KPI's aggregation rule; observations after as_of are not known to the run.
-- The month of as_of is partial unless as_of is its last day. A partial month's sum covers only
-- its days up to as_of, so a summed KPI is pro-rated to the whole month (sum × days in the month
-- / days elapsed): judged against a full month's baseline and target, a month-to-date sum would
-- read as a drop that did not happen. An average or a last value already describes the month,
-- from fewer observations; it is kept, and the month is flagged partial (DECISIONS "Partial
-- months").
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

month_lengths as (

    select
        *,
        {{ dbt.datediff('month', dbt.dateadd('month', 1, 'month'), 'day') }} as days_in_month,
        -- the month's days the run knows: all of them, or up to and including as_of
        case
            when {{ dbt.dateadd('month', 1, 'month') }} <= {{ as_of_date() }}
                then {{ dbt.datediff('month', dbt.dateadd('month', 1, 'month'), 'day') }}
            else {{ dbt.datediff('month', as_of_date(), 'day') }} + 1
        end as days_elapsed

    from monthly

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
            when 'sum'
                then monthly.total_value * monthly.days_in_month / monthly.days_elapsed
        end as monthly_value,

        -- completeness
        monthly.days_in_month,
        monthly.days_elapsed,
        monthly.days_elapsed < monthly.days_in_month as is_partial_month

    from month_lengths as monthly

    -- the aggregation rule comes from the KPI definition; an observation of an undefined KPI has
    -- none (the relationship test on fct_kpi_observations reports it)
    inner join kpis
        on monthly.kpi_id = kpis.kpi_id

)

select * from final
