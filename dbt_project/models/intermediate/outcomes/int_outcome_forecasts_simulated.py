"""One row per outcome served by a workstream: Monte Carlo completion days of all its linked work.

The workstreams are simulated exactly as in ``int_workstream_forecasts_simulated`` (same inputs,
seed and trials, hence the same trials), then combined trial by trial: the outcome's work is done
when its slowest workstream is. The simulation lives in ``pipelines.forecast`` (unit-tested with
pytest); settings come from the dbt vars through the model's ``meta`` (see its YAML).
"""

from pipelines.forecast.delivery import SimulationSettings, forecast_outcomes


def model(dbt, session):
    settings = SimulationSettings(
        seed=int(dbt.config.meta_get("forecast_seed", 20261122)),
        trials=int(dbt.config.meta_get("forecast_trials", 10000)),
        horizon_days=int(dbt.config.meta_get("forecast_horizon_days", 1095)),
    )
    workstream_tasks = dbt.ref("int_workstream_tasks_counted_at_as_of").df()
    daily_completions = dbt.ref("int_workstream_completions_counted_to_days").df()
    return forecast_outcomes(workstream_tasks, daily_completions, settings)
