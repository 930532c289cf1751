"""The report's sections, in page order: delivery first, then the flow of work behind it.

Each is a function ``(ReportContext) -> Section`` that reads only what it needs from the marts:
adding a section means writing one such function and listing it here.
"""

from pipelines.report.context import SectionBuilder
from pipelines.report.sections.delivery import (
    execution_section,
    forecast_section,
    review_section,
    scorecard_section,
    unlinked_section,
)
from pipelines.report.sections.flow import (
    cumulative_flow_section,
    cycle_time_scatter_section,
    cycle_time_section,
    flow_efficiency_section,
    throughput_section,
    wip_section,
)
from pipelines.report.sections.outcomes import outcomes_section
from pipelines.report.sections.quality import aging_section, quality_section
from pipelines.report.sections.summary import summary_section

SECTIONS: tuple[SectionBuilder, ...] = (
    summary_section,
    review_section,
    scorecard_section,
    execution_section,
    outcomes_section,
    forecast_section,
    unlinked_section,
    throughput_section,
    cycle_time_section,
    cycle_time_scatter_section,
    wip_section,
    cumulative_flow_section,
    flow_efficiency_section,
    aging_section,
    quality_section,
)

__all__ = ["SECTIONS"]
