"""funnel: the sales-funnel domain and its analytics, free of any Excel library.

Data flows one way::

    raw tables ──validate──▶ Inputs ──Analysis──▶ every output table (each computed once, when asked)

The parts, each a subpackage that says what it owns:

    inputs     the data contract, the values people type, settings, validation
    forecast   stage probabilities, the deal table, weighted pipeline, ranges, win rates
    winmodel   the per-deal win model and its backtest
    methods    the courses' selling methods: qualification, decision chain, competition, negotiation
    crm        CRM exports in
    demo       the built-in demo data
    analysis   ``Analysis``: one set of validated inputs and every table derived from it

Everything here takes and returns pandas DataFrames and pydantic models; how the work is
run (child processes, the garbage collector, pandas options) is the caller's choice.
"""

from funnel.analysis import OUTPUT_TABLES, Analysis, Report, run
from funnel.inputs.refusals import RefreshRefused
from funnel.inputs.settings import Settings
from funnel.inputs.validation import Inputs, validate

__all__ = ["OUTPUT_TABLES", "Analysis", "Inputs", "RefreshRefused", "Report", "Settings", "run", "validate"]
