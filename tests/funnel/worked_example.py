"""The small worked example every engine test computes by hand.

Scheme P 0.20 / I 0.50 / B 0.80 / W / L; as of 2026-04-30; quarters; prior strength 10.

    deal  stage  amount  owner team  close       history                         note
    D1    W      100     A     T1    2026-01-15  P 10-01, I 11-01, B 12-01, W 01-15
    D2    L       50     A     T1    2026-02-10  P 11-01, I 12-01, L 02-10
    D3    L       80     B     T2    2026-03-01  P 12-01, L 03-01
    D4    I      200     B     T2    2026-05-20  P 01-01, I 03-01
    D5    B      300     A     T1    2026-06-30  P 01-10, I 02-01, B 04-01     override 0.9
    D6    P       40     B     T2    (none)      P 04-01

Quotas 2026-Q2: owner A 400 (team T1), owner B 300.
"""

from __future__ import annotations

import pandas as pd

from funnel.inputs.schemes import default_stages


def _d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def worked_tables() -> dict[str, pd.DataFrame]:
    """The raw tables of the worked example (index = sheet rows from 2)."""
    opportunities = pd.DataFrame(
        [
            ("D1", "W", 100.0, "A", "T1", "2025-09-20", "2026-01-15", None, "Referral", "Huikang"),
            ("D2", "L", 50.0, "A", "T1", "2025-10-20", "2026-02-10", None, "Website", "Huikang;Dingjie"),
            ("D3", "L", 80.0, "B", "T2", "2025-11-20", "2026-03-01", None, "Website", None),
            ("D4", "I", 200.0, "B", "T2", "2025-12-20", "2026-05-20", None, "Referral", None),
            ("D5", "B", 300.0, "A", "T1", "2026-01-05", "2026-06-30", 0.9, "Partner", "Dingjie"),
            ("D6", "P", 40.0, "B", "T2", "2026-03-25", None, None, "Website", None),
        ],
        columns=["id", "stage", "amount", "owner", "team", "created", "close_date", "probability_override", "source", "competitors"],
    )
    opportunities.index = pd.RangeIndex(2, 8)
    history = pd.DataFrame(
        [
            ("D1", "P", "2025-10-01"), ("D1", "I", "2025-11-01"), ("D1", "B", "2025-12-01"), ("D1", "W", "2026-01-15"),
            ("D2", "P", "2025-11-01"), ("D2", "I", "2025-12-01"), ("D2", "L", "2026-02-10"),
            ("D3", "P", "2025-12-01"), ("D3", "L", "2026-03-01"),
            ("D4", "P", "2026-01-01"), ("D4", "I", "2026-03-01"),
            ("D5", "P", "2026-01-10"), ("D5", "I", "2026-02-01"), ("D5", "B", "2026-04-01"),
            ("D6", "P", "2026-04-01"),
        ],
        columns=["opportunity_id", "stage", "entered"],
    )
    history.index = pd.RangeIndex(2, 2 + len(history))
    settings = pd.DataFrame(
        [("as_of", "2026-04-30"), ("period", "quarter"), ("prior_strength", 10), ("probability_method", "blended")],
        columns=["key", "value"],
        index=pd.RangeIndex(2, 6),
    )
    quotas = pd.DataFrame(
        [("A", "T1", "2026-Q2", 400.0), ("B", None, "2026-Q2", 300.0)],
        columns=["owner", "team", "period", "quota"],
        index=pd.RangeIndex(2, 4),
    )
    return {"settings": settings, "stages": default_stages(), "opportunities": opportunities,
            "stage_history": history, "quotas": quotas}
