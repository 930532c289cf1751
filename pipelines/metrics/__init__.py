"""The semantic layer's metrics, queried through MetricFlow from the published warehouse."""
