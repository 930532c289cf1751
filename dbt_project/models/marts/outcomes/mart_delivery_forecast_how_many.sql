-- One row per workstream with remaining tasks and forecast date (grain: workstream_id x
-- forecast_on): how many of its remaining tasks are done by that date in 50, 85 and 95% of the
-- Monte Carlo trials, "how many by a date" beside the "when" of mart_delivery_forecast. The
-- simulation runs before this model, outside dbt (source forecast.workstream_how_many_simulated,
-- written by the Dagster asset delivery_forecasts, in days after as_of); here the days become
-- dates and the names are joined for readers.
with

how_many as (

    select * from {{ source('forecast', 'workstream_how_many_simulated') }}

),

workstream_tasks as (

    select * from {{ ref('int_workstream_tasks_counted_at_as_of') }}

),

workstreams as (

    select * from {{ ref('dim_workstreams') }}

),

final as (

    select
        -- keys
        how_many.workstream_id,
        workstreams.workstream_name,
        how_many.outcome_id,

        -- the date counted up to
        workstream_tasks.as_of_date,
        cast(
            {{ dbt.dateadd('day', 'how_many.days_ahead', 'workstream_tasks.as_of_date') }}
            as date
        ) as forecast_on,
        how_many.days_ahead,
        how_many.is_target_day as is_target_date,

        -- tasks at the end of the as_of day and the throughput window the simulation samples
        how_many.remaining_tasks,
        how_many.window_days,
        how_many.window_completed_tasks,

        -- forecast: the most remaining tasks done by the date in 50, 85 and 95% of trials
        how_many.completed_p50_tasks,
        how_many.completed_p85_tasks,
        how_many.completed_p95_tasks,
        how_many.probability_all_done,

        -- simulation
        how_many.simulation_trials,
        how_many.simulation_seed,
        how_many.horizon_days

    from how_many

    inner join workstream_tasks
        on how_many.workstream_id = workstream_tasks.workstream_id

    inner join workstreams
        on how_many.workstream_id = workstreams.workstream_id

)

select * from final
