"""Telling the readiness rows (``funnel.forecast.readiness``) from the problems of a cell.

Most tests build a small book with no quotas and open deals without close dates: its Issues
table then starts with the rows saying so. A test about other problems checks those rows
are exactly what ``readiness_issues`` says of the report, and sets them aside.
"""

from __future__ import annotations

import re

import pandas as pd

from funnel import catalog
from funnel.forecast.readiness import readiness_issues


def readiness_rows(report) -> pd.DataFrame:
    """What ``readiness_issues`` says of this report's deals, stage history, quotas and settings."""
    inputs = report.inputs
    return readiness_issues(report.deals, inputs.stage_history, inputs.quotas, report.settings)


def without_readiness(report) -> pd.DataFrame:
    """The report's issues after its leading readiness rows, which are checked to be exactly
    ``readiness_rows(report)``."""
    issues = report["issues"]
    expected = readiness_rows(report)
    lead = issues.head(len(expected)).reset_index(drop=True)
    assert lead[["table", "column", "value", "problem", "action"]].values.tolist() == \
        expected[["table", "column", "value", "problem", "action"]].values.tolist()
    assert lead["row"].isna().all()
    return issues.iloc[len(expected):].reset_index(drop=True)


def _pattern(template: str) -> str:
    # A catalog template as a regular expression: each {field} matches anything.
    parts = re.split(r"\{[a-z_]+\}", template)
    return ".*".join(re.escape(p) for p in parts)


_READINESS = re.compile("|".join(f"(?:{_pattern(t)})" for key, texts in catalog.group("readiness.").items()
                                 if not key.endswith("_action") for t in texts))


def is_readiness(problem: str) -> bool:
    """Whether an Issues row's problem is one of the readiness rows' (in either language)."""
    return bool(_READINESS.fullmatch(problem or ""))
