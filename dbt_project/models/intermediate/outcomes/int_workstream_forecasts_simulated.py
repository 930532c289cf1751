"""One row per workstream: Monte Carlo completion days of its remaining tasks.

The simulation lives in ``pipelines.forecast`` (unit-tested with pytest: dbt cannot unit-test a
Python model); this model only reads its inputs and the run's settings. Seed, trials and horizon
come from the dbt vars ``forecast_seed``, ``forecast_trials`` and ``forecast_horizon_days``
through the model's ``meta`` (see its YAML), with the same defaults here.
"""

from pipelines.forecast.delivery import SimulationSettings, forecast_workstreams


def model(dbt, session):
    settings = SimulationSettings(
        seed=int(dbt.config.meta_get("forecast_seed", 20261122)),
        trials=int(dbt.config.meta_get("forecast_trials", 10000)),
        horizon_days=int(dbt.config.meta_get("forecast_horizon_days", 1095)),
    )
    workstream_tasks = dbt.ref("int_workstream_tasks_counted_at_as_of").df()
    daily_completions = dbt.ref("int_workstream_completions_counted_to_days").df()
    return forecast_workstreams(workstream_tasks, daily_completions, settings)
