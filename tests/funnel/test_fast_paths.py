"""The engine's fast paths give what the plain ones gave (issue 15 item 5: every figure the same)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.deals import with_probability
from funnel.inputs.issues import Each, _positional


def test_a_template_by_position_says_what_it_said_by_name() -> None:
    template = "deal {id} moved back {times:,} times to {stage!r} {{not a field}} after {previous}, deal {id}"
    names = ("stage", "id", "previous", "times")
    positional = _positional(template, names)
    assert positional == "deal {1} moved back {3:,} times to {0!r} {{not a field}} after {2}, deal {1}"
    row = ("Q", "D-7", "P", 1234)
    assert positional.format(*row) == template.format(**dict(zip(names, row))) == (
        "deal D-7 moved back 1,234 times to 'Q' {not a field} after P, deal D-7")


def test_a_template_the_fields_do_not_fill_is_left_to_the_names() -> None:
    assert _positional("deal {id} in {stage}", ("id",)) is None
    assert _positional("{amount:{width}}", ("amount", "width")) is None  # a nested field


def test_each_row_is_said_alike_either_way() -> None:
    said = Each("issue.history.moved_back", ("id", "stage", "day", "previous"),
                (["D1", "D2"], ["P", "Q"], ["2024-01-02", "2024-02-03"], ["Q", "B"])).said("en")
    assert said == ["deal D1 moved back to P on 2024-01-02 after Q", "deal D2 moved back to Q on 2024-02-03 after B"]


def test_the_model_probability_replaces_only_open_deals_without_an_override() -> None:
    deals = pd.DataFrame({
        "amount": [100.0, np.nan, 50.0, 80.0],
        "probability_override": [np.nan, np.nan, 0.9, np.nan],
        "is_open": [True, True, True, False],
        "used_probability": [0.2, 0.2, 0.9, 1.0],
        "weighted": [20.0, 0.0, 45.0, 80.0],
    }, index=[5, 6, 7, 8])
    model = pd.Series([0.5, 0.4, 0.3, np.nan], index=[5, 6, 7, 8])
    out = with_probability(deals, model)
    assert out["used_probability"].tolist() == [0.5, 0.4, 0.9, 1.0]
    assert out["weighted"].tolist() == [50.0, 0.0, 45.0, 80.0]
    assert deals["used_probability"].tolist() == [0.2, 0.2, 0.9, 1.0]  # the stage table is left as it was
    assert with_probability(deals, None) is deals
