"""funnel: the sales-funnel domain and its analytics, free of any Excel library.

Data flows one way: raw tables -> ``validate`` (typed tables + issues) -> ``run`` (every
output table). Everything here takes and returns pandas DataFrames and pydantic models.
"""

from funnel.engine import OUTPUT_TABLES, Report, run, run_inputs
from funnel.settings import Settings
from funnel.validate import Inputs, validate

__all__ = ["OUTPUT_TABLES", "Inputs", "Report", "Settings", "run", "run_inputs", "validate"]
