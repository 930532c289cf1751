"""Delivery forecasts: Monte Carlo simulation of when the remaining linked work is done.

``monte_carlo`` holds the numpy simulation and its summaries; ``delivery`` applies them to the
workstreams and outcomes; ``run`` reads the counts dbt built and writes both forecast tables
through a ``tables.TableStore``, the only part that knows the warehouse's engine. The Dagster
asset ``delivery_forecasts`` (``pipelines.defs.forecast``) runs it between two dbt builds.
"""
