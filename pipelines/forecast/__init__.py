"""Delivery forecasts: Monte Carlo simulation of when the remaining linked work is done.

``monte_carlo`` holds the numpy simulation and its summaries; ``delivery`` applies them to the
workstreams and outcomes that the dbt Python models read from the warehouse.
"""
