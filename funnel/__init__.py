"""funnel: the sales-funnel domain and its analytics, free of any Excel library.

Data flows one way: raw tables -> ``validate`` (typed tables + issues) -> ``run`` (every
output table). Everything here takes and returns pandas DataFrames and pydantic models.
"""

import pandas as pd

# pandas keeps new text columns in Arrow arrays whenever pyarrow is installed (fastexcel,
# our workbook reader, brings it). The engine's many small text operations run faster on
# Python strings (100k deals: 1.9 s vs 2.3 s), and the same inputs must give the same
# dtypes on every machine: text stays in Python strings, as without pyarrow.
pd.set_option("mode.string_storage", "python")

from funnel.engine import OUTPUT_TABLES, Report, run, run_inputs  # noqa: E402
from funnel.inputs.settings import Settings  # noqa: E402
from funnel.inputs.validation import Inputs, validate  # noqa: E402

__all__ = ["OUTPUT_TABLES", "Inputs", "Report", "Settings", "run", "run_inputs", "validate"]
