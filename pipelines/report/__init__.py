"""The leadership report: one self-contained HTML file per month, built from schema ``marts``.

``build_report`` is the only entry point; the Dagster asset and ``owh report`` both call it.
Each section of the report is an independent function in ``pipelines.report.sections``.
"""

from pipelines.report.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
