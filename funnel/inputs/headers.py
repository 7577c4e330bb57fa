"""Which column a header stands for, as people actually type headers.

Three steps, each only for the columns the one before left unclaimed, so an exact header
always wins over a near one:

1. exact: a known name in any case, full- or half-width, with any run of spaces (read
   silently: "AMOUNT", "金额", "amount" are the Amount column);
2. named: a header the user mapped to the column (``column_names`` in Settings);
3. close: the same letters and digits once spacing and punctuation are dropped
   ("Close-Date", "Won"), a currency in brackets dropped ("Amount (USD)", "金额（元）"), or
   one of a small, explicit list of aliases ("Amt", "Deal value"). These are read and
   reported, so the user sees what was assumed.

Nothing fuzzier maps a column: a wrong column read silently is worse than a refusal.
Edit distance only suggests, in a refusal's message, which header may have been meant
(``closest``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from funnel.inputs.parsing import fold

__all__ = ["HeaderMatch", "exact_key", "loose_key", "match_headers", "closest"]

# A currency (never a unit such as 万元, which would scale the amounts) in brackets at the end.
_CURRENCY_UNIT = re.compile(r"\s*[(\[]\s*(?:[A-Z]{3}|[$¥€£]|元|人民币)\s*[)\]]\s*$", re.I)


def exact_key(text: object) -> str:
    """A header as compared in step 1: folded, lower case, single spaces."""
    return " ".join(fold("" if text is None else str(text)).lower().split())


def loose_key(text: object) -> str:
    """A header as compared in step 3: letters and digits only, without a bracketed currency."""
    folded = _CURRENCY_UNIT.sub("", fold("" if text is None else str(text)))
    return "".join(ch for ch in folded.casefold() if ch.isalnum())


@dataclass
class HeaderMatch:
    """What each header position was read as."""

    columns: dict[int, str] = field(default_factory=dict)  # position -> column key
    close: list[int] = field(default_factory=list)  # positions read by step 3 (to report)
    repeats: dict[int, int] = field(default_factory=dict)  # position -> earlier position of the same column


def match_headers(
    headers: list[object],
    names: Mapping[str, Iterable[str]],
    aliases: Mapping[str, Iterable[str]] | None = None,
    chosen: Mapping[str, str] | None = None,
) -> HeaderMatch:
    """Match a table's headers to its columns.

    Args:
        headers: the header cells, in order (repeats allowed).
        names: column key -> its exact names (the key itself, the English and Chinese headers).
        aliases: column key -> other names it goes by (step 3).
        chosen: column key -> the user's header for it (step 2).

    Returns:
        The match: a header that repeats a column already matched in the same step is a
        repeat (the first one is read); one only close to a column an earlier step
        claimed is left unmatched, for validation to report as unknown.
    """
    match = HeaderMatch()
    exact = {exact_key(n): key for key, ns in names.items() for n in (key, *ns)}
    steps = [{p: exact.get(exact_key(h)) for p, h in enumerate(headers)}]
    if chosen:
        by_header = {exact_key(h): key for key, h in chosen.items()}
        steps.append({p: by_header.get(exact_key(h)) for p, h in enumerate(headers)})
    loose = {loose_key(n): key for key, ns in names.items() for n in (key, *ns)}
    for key, others in (aliases or {}).items():
        loose.update({loose_key(a): key for a in others})
    steps.append({p: loose.get(loose_key(h)) if loose_key(h) else None for p, h in enumerate(headers)})
    claimed: dict[str, int] = {}
    for number, step in enumerate(steps):
        first_here: dict[str, int] = {}
        for position, key in step.items():
            if key is None or position in match.columns or position in match.repeats:
                continue
            if key in first_here:
                match.repeats[position] = first_here[key]
            elif key not in claimed:
                first_here[key] = position
        for key, position in first_here.items():
            claimed[key] = position
            match.columns[position] = key
            if number == len(steps) - 1:
                match.close.append(position)
    match.close.sort()
    return match


def closest(wanted: Iterable[str], candidates: Iterable[str]) -> str | None:
    """The candidate header most like any of ``wanted`` (a column's names), if one is close.

    Only for suggesting a fix in a message; never to read a column.
    """
    pool = {loose_key(c): c for c in candidates if loose_key(c)}
    best, score = None, 0.0
    for name in wanted:
        key = loose_key(name)
        for found in difflib.get_close_matches(key, list(pool), n=1, cutoff=0.6):
            ratio = difflib.SequenceMatcher(None, key, found).ratio()
            if ratio > score:
                best, score = pool[found], ratio
    return best
