-- One row per outcome (grain: outcome_id): how much of its linked work remains at the end of the
-- as_of day, by when all of it will be done at the 50th, 85th and 95th percentile of the Monte
-- Carlo simulation, and the probability that it is all done by the outcome's target date. Each
-- trial is done on the day the outcome's last workstream with remaining work is (simulated in
-- source forecast.outcome_forecasts_simulated): a single workstream's pace cannot speak for the
-- outcome. An outcome no workstream serves has no forecast (no_tasks).
with

outcomes as (

    select * from {{ ref('int_outcomes_joined_to_kpis') }}

),

forecasts as (

    select * from {{ source('forecast', 'outcome_forecasts_simulated') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

final as (

    select
        -- keys
        outcomes.outcome_id,
        outcomes.statement,

        -- period: the month of as_of joins mart_outcome_progress's current month
        as_of.as_of_date,
        {{ month_start('as_of.as_of_date') }} as month,

        -- linked work at the end of the as_of day
        outcomes.workstream_count,
        cast(coalesce(forecasts.workstreams_with_tasks, 0) as bigint) as workstreams_with_tasks,
        cast(coalesce(forecasts.remaining_tasks, 0) as bigint) as remaining_tasks,

        -- throughput window the simulation samples
        forecasts.window_days,
        cast(coalesce(forecasts.window_completed_tasks, 0) as bigint) as window_completed_tasks,

        -- forecast: the dates by which all of it is done in 50, 85 and 95% of trials
        cast({{ dbt.dateadd('day', 'forecasts.forecast_p50_days', 'as_of.as_of_date') }} as date)
            as forecast_p50_on,
        cast({{ dbt.dateadd('day', 'forecasts.forecast_p85_days', 'as_of.as_of_date') }} as date)
            as forecast_p85_on,
        cast({{ dbt.dateadd('day', 'forecasts.forecast_p95_days', 'as_of.as_of_date') }} as date)
            as forecast_p95_on,
        forecasts.forecast_p50_days,
        forecasts.forecast_p85_days,
        forecasts.forecast_p95_days,
        case
            when forecasts.outcome_id is null then 'no_tasks'
            else forecasts.forecast_note
        end as forecast_note,

        -- target
        outcomes.target_on,
        cast({{ dbt.datediff('as_of.as_of_date', 'outcomes.target_on', 'day') }} as bigint) as days_to_target,
        forecasts.probability_done_by_target,

        -- simulation (null for an outcome no workstream serves: nothing was simulated)
        forecasts.simulation_trials,
        forecasts.simulation_seed,
        forecasts.horizon_days

    from outcomes

    cross join as_of

    left join forecasts
        on outcomes.outcome_id = forecasts.outcome_id

)

select * from final
