"""Which open deals put the forecast at risk, by how much, and why in words.

A deal is at risk when it carries one of deal health's warning signs (``funnel.forecast.
health``): its amount is then at risk, so that the amounts at risk add up to the Summary's
flagged amount. The reason lists the signs strongest first, with the figures behind each:
a close date already passed (the forecast counts the deal in a period that is over), a
close date pushed out, too long in the stage against the stage's median, no activity;
then what the decision chain lacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel import catalog

__all__ = ["WARNING_SIGNS", "risk_columns", "sorted_by_risk"]

# Deal health's flags, strongest first.
WARNING_SIGNS = ("overdue", "pushed", "stale", "inactive")


def _whole(value) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def risk_columns(scores: pd.DataFrame, language: str) -> pd.DataFrame:
    """amount_at_risk, warning_signs (how many of ``WARNING_SIGNS``) and reason, per row of
    the Deal scores table (its health and decision-chain columns), indexed like it.

    The reason is blank for a deal with no sign and no decision-chain risk.
    """
    flags = {sign: scores[sign].eq(True).to_numpy() for sign in WARNING_SIGNS}  # a blank flag is no sign
    count = np.sum(list(flags.values()), axis=0) if len(scores) else np.zeros(0, dtype=int)
    amount = pd.to_numeric(scores["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    separator = catalog.text("separator.list", language)
    no_chain = catalog.text("label.risk.no_stakeholders", language)
    # Only the columns the words read, each as a list (iterating every column of the frame row
    # by row, Arrow text among them, cost more than the words).
    overdue_days, stage_days, median_days, quiet_days, risks = (
        scores[c].tolist() for c in ("days_overdue", "days_in_stage", "stage_median_days", "days_since_activity", "risks"))
    # The snapshot store's close-date pushes, where the table has them (none without a store).
    no_history = [None] * len(scores)
    push_counts, slipped_days = ((scores[c].tolist() if c in scores else no_history) for c in ("close_pushes", "days_slipped"))
    reasons = []
    for i in range(len(scores)):
        words = []
        if flags["overdue"][i]:
            words.append(catalog.text("risk.overdue", language, days=_whole(overdue_days[i])))
        if flags["pushed"][i]:
            pushes = push_counts[i]
            if pushes is not None and not pd.isna(pushes) and pushes > 0:  # the snapshot store saw it move
                slipped = pd.to_numeric(slipped_days[i], errors="coerce")
                words.append(catalog.text("risk.pushed_times", language, times=int(pushes),
                                          days=_whole(max(float(slipped), 0.0)) if not pd.isna(slipped) else "0"))
            else:
                words.append(catalog.text("risk.pushed", language))
        if flags["stale"][i]:
            words.append(catalog.text("risk.stale", language, days=_whole(stage_days[i]), median=_whole(median_days[i])))
        if flags["inactive"][i]:
            words.append(catalog.text("risk.inactive", language, days=_whole(quiet_days[i])))
        chain = risks[i] if isinstance(risks[i], str) else ""
        if chain and (chain != no_chain or words):
            words.append(chain)
        reasons.append(separator.join(words))
    return pd.DataFrame({"amount_at_risk": np.where(count > 0, amount, 0.0), "warning_signs": count.astype(int),
                         "reason": reasons}, index=scores.index)


def sorted_by_risk(table: pd.DataFrame) -> pd.DataFrame:
    """Rows with the most amount at risk first; then more warning signs, larger amount, id."""
    order = table.sort_values(["amount_at_risk", "warning_signs", "amount", "id"],
                              ascending=[False, False, False, True], kind="stable", na_position="last")
    return order.reset_index(drop=True)
