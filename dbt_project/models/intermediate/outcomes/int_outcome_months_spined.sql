-- One row per outcome × month, from the month of the outcome's baseline through the month of the
-- run's as_of date, whether or not the KPI was observed: a missing month must stay visible.
with

outcomes as (

    select * from {{ ref('stg_business__outcomes') }}

),

kpis as (

    select * from {{ ref('stg_business__kpis') }}

),

outcomes_in_window as (

    select
        outcome_id,
        kpi_id,
        baseline_value,
        baseline_on,
        target_value,
        target_on,
        {{ month_start('baseline_on') }} as baseline_month,
        {{ month_start(as_of_date()) }} as as_of_month

    from outcomes

    -- an outcome whose baseline month starts after as_of has no month to report yet
    where {{ month_start('baseline_on') }} <= {{ month_start(as_of_date()) }}

),

spined as (

    select
        *,
        {{ month_series('baseline_month', 'as_of_month') }} as month

    from outcomes_in_window

),

evaluated as (

    select
        *,
        -- the month's last day, or as_of for the month still in progress
        least(
            {{ dbt.last_day(date='month', datepart='month') }},
            {{ as_of_date() }}
        ) as evaluated_on

    from spined

),

final as (

    select
        -- ids
        evaluated.outcome_id,
        evaluated.kpi_id,

        -- period
        evaluated.month,
        evaluated.evaluated_on,

        -- baseline and target
        evaluated.baseline_value,
        evaluated.baseline_on,
        evaluated.target_value,
        evaluated.target_on,

        -- KPI definition (null when the outcome names an undefined KPI)
        kpis.aggregation,
        kpis.direction,
        kpis.cadence_days

    from evaluated

    left join kpis
        on evaluated.kpi_id = kpis.kpi_id

)

select * from final
