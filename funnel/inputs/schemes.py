"""Stage schemes: the P/I/B funnel and the other shipped schemes, and where a code sits in one.

A scheme is data (``funnel/inputs/presets/stages_*.csv``), never code. The default is the
P/I/B funnel of the Kingdee course; the six-step and seven-stage schemes ship beside it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from funnel.inputs import parsing
from funnel.inputs.contract import forecast_category_words
from funnel.inputs.keys import codes_and_labels

__all__ = ["PRESETS", "preset_stages", "default_stages", "open_stages", "stage_positions"]

PRESETS = {
    "pib": "stages_pib.csv",
    "six_step": "stages_six_step.csv",
    "seven_stage": "stages_seven_stage.csv",
}


def preset_stages(name: str = "pib", language: str = "en") -> pd.DataFrame:
    """A shipped stage scheme as a ``stages`` table.

    Args:
        name: one of ``PRESETS`` (pib, six_step, seven_stage).
        language: ``en`` or ``zh-CN`` for the stage names, their entry criteria and forecast
            categories (which validation reads in either language).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown stage scheme '{name}' (known: {', '.join(PRESETS)})")
    with resources.files("funnel.inputs.presets").joinpath(PRESETS[name]).open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"code": str})
    if language == "zh-CN":
        table["name"] = table["name_zh"]
        table["entry_criteria"] = table["entry_criteria_zh"]
        table["forecast_category"] = table["forecast_category"].map(forecast_category_words(language))
    table = table.drop(columns=["name_zh", "entry_criteria_zh"])
    for flag in ("is_won", "is_lost"):
        table[flag] = table[flag].map(parsing.parse_flag)
    table.index = pd.RangeIndex(2, 2 + len(table))  # as if read from a sheet under a header row
    return table


def default_stages() -> pd.DataFrame:
    """The default P/I/B/W/L scheme (P 0.20, I 0.50, B 0.80, W 1, L 0)."""
    return preset_stages("pib")


def open_stages(stages: pd.DataFrame) -> pd.DataFrame:
    """The stages a deal can sit in (neither won nor lost), in the scheme's order."""
    return stages[~(stages["is_won"] | stages["is_lost"])].sort_values("order")


def stage_positions(stages: pd.DataFrame, codes) -> np.ndarray:
    """Each code's row position in ``stages``.

    One hash lookup per value; a stage's order and flags are then plain array lookups,
    which keeps million-row histories off pandas ``map``/``isin``.

    Args:
        stages: the stage scheme (a repeated code counts at its first row).
        codes: stage codes (a column of deals or history).

    Returns:
        An integer array, -1 where the code is not a stage.
    """
    index = pd.Index(stages["code"])
    if not index.is_unique:
        keep = ~index.duplicated()
        return np.append(np.flatnonzero(keep), -1)[index[keep].get_indexer(codes)]
    # A column repeats a few codes: looking up its distinct codes (a categorical column's
    # categories, else those one factorize finds) is cheaper than a lookup per row.
    # Missing values get code -1, which picks the -1.
    value_codes, distinct = codes_and_labels(codes, sort=False)
    return np.append(index.get_indexer(pd.Index(distinct, dtype=object)), -1)[value_codes]
