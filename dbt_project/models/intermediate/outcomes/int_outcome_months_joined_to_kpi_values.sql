-- One row per outcome × month: the KPI's value for the month (unsegmented series) and how recent
-- its latest observation is at the month's evaluation date, the inputs of the progress status.
with

outcome_months as (

    select * from {{ ref('int_outcome_months_spined') }}

),

kpi_months as (

    select * from {{ ref('int_kpi_observations_aggregated_to_months') }}

),

unsegmented_kpi_months as (

    -- outcomes are measured on the whole population; staging names the unsegmented series 'all'
    select * from kpi_months
    where segment = 'all'

),

observed_in_month as (

    select
        outcome_months.outcome_id,
        outcome_months.month,
        unsegmented_kpi_months.monthly_value as actual_value,
        coalesce(unsegmented_kpi_months.observation_count, 0) as observation_count

    from outcome_months

    left join unsegmented_kpi_months
        on
            outcome_months.kpi_id = unsegmented_kpi_months.kpi_id
            and outcome_months.month = unsegmented_kpi_months.month

),

latest_observation_to_date as (

    -- the latest observation may lie in an earlier month (even before the baseline); month values
    -- stop at as_of, so every observation of a month up to this one precedes the evaluation date
    select
        outcome_months.outcome_id,
        outcome_months.month,
        max(unsegmented_kpi_months.last_observed_on) as last_observed_on

    from outcome_months

    inner join unsegmented_kpi_months
        on
            outcome_months.kpi_id = unsegmented_kpi_months.kpi_id
            and outcome_months.month >= unsegmented_kpi_months.month

    group by outcome_months.outcome_id, outcome_months.month

),

final as (

    select
        -- ids
        outcome_months.outcome_id,
        outcome_months.kpi_id,

        -- period
        outcome_months.month,
        outcome_months.evaluated_on,

        -- baseline and target
        outcome_months.baseline_value,
        outcome_months.baseline_on,
        outcome_months.target_value,
        outcome_months.target_on,

        -- KPI definition
        outcome_months.aggregation,
        outcome_months.direction,
        outcome_months.cadence_days,

        -- observed
        observed_in_month.actual_value,
        observed_in_month.observation_count,
        latest_observation_to_date.last_observed_on,
        cast({{ dbt.datediff(
            'latest_observation_to_date.last_observed_on',
            'outcome_months.evaluated_on',
            'day'
        ) }} as bigint) as days_since_last_observation

    from outcome_months

    inner join observed_in_month
        on
            outcome_months.outcome_id = observed_in_month.outcome_id
            and outcome_months.month = observed_in_month.month

    left join latest_observation_to_date
        on
            outcome_months.outcome_id = latest_observation_to_date.outcome_id
            and outcome_months.month = latest_observation_to_date.month

)

select * from final
