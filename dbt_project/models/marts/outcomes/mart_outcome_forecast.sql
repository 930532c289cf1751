-- One row per outcome (grain: outcome_id): how much of its linked work remains at the end of the
-- as_of day, by when all of it will be done at the 50th, 85th and 95th percentile of the Monte
-- Carlo simulation, and the probability that it is all done by the outcome's target date. Each
-- trial is done on the day the outcome's last workstream with remaining work is (simulated in
-- source forecast.outcome_forecasts_simulated): a single workstream's pace cannot speak for the
-- outcome. An outcome no workstream serves has no forecast (no_tasks).
-- Its logic lives in int_outcome_forecasts_dated, which the other models that need it
-- read too; this model publishes it under its contract.
with

outcome_forecasts_dated as (

    select * from {{ ref('int_outcome_forecasts_dated') }}

),

final as (

    select
        outcome_id,
        statement,
        as_of_date,
        month,
        workstream_count,
        workstreams_with_tasks,
        remaining_tasks,
        window_days,
        window_completed_tasks,
        forecast_p50_on,
        forecast_p85_on,
        forecast_p95_on,
        forecast_p50_days,
        forecast_p85_days,
        forecast_p95_days,
        forecast_note,
        target_on,
        days_to_target,
        probability_done_by_target,
        simulation_trials,
        simulation_seed,
        horizon_days

    from outcome_forecasts_dated

)

select * from final
