"""Deal history as versions, the way dbt snapshots keep it.

A snapshot records each deal's tracked fields. A deal gets a new *version* only when one of
its tracked fields differs from its latest version (or it is new); its latest version then
ends at that snapshot (``valid_to``). A deal that left the table ends its version without a
new one. So a year of weekly snapshots costs what changed, not 52 copies of every deal, and
the state as of snapshot ``s`` is the versions with ``valid_from <= s`` and ``valid_to`` blank
or ``> s``.

Snapshots are numbered in the order they were recorded; the store (``workbook.store``) keeps
the same rules in a database, and these functions are its reference.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TRACKED", "VERSION_COLUMNS", "tracked_fields", "normalized", "changes", "record", "state_as_of"]

# What a snapshot remembers of each deal: a change to any of them is a new version.
TRACKED = (
    "stage",
    "amount",
    "close_date",
    "owner",
    "team",
    "forecast_category",
    "probability",
    "weighted",
    "is_open",
    "is_won",
)
# A version: the deal, its tracked fields, and the snapshots it is valid from and until.
VERSION_COLUMNS = ("deal_id", *TRACKED, "valid_from", "valid_to")

_TEXT = ("deal_id", "stage", "owner", "team", "forecast_category")
_NUMBERS = ("amount", "probability", "weighted")


def _text(values: pd.Series) -> pd.Series:
    # Text as Python str, a blank as None: the same whether it came from a table or a database.
    out = values.astype(object).where(values.notna(), None)
    if pd.api.types.infer_dtype(out, skipna=True) in ("string", "empty"):
        return out  # already str or None: no call per value (a tenth of a second at 100k deals)
    return out.map(lambda v: v if v is None else str(v))


def tracked_fields(deals: pd.DataFrame) -> pd.DataFrame:
    """The tracked fields of every deal in an analysis' deal table (``Analysis.deals``).

    Returns:
        One row per deal, ``deal_id`` and ``TRACKED`` in that order, sorted by deal id, on a
        fresh index: ``forecast_category`` is the category the forecast used (the override,
        else the stage's; Closed / Omitted for a closed deal), ``probability`` the used
        probability, ``close_date`` a date without time.
    """
    out = pd.DataFrame({
        "deal_id": _text(deals["id"]),
        "stage": _text(deals["stage"]),
        "amount": pd.to_numeric(deals["amount"], errors="coerce").astype(float),
        "close_date": pd.to_datetime(deals["close_date"]).dt.normalize().astype("datetime64[ns]"),
        "owner": _text(deals["owner"]),
        "team": _text(deals["team"]),
        "forecast_category": _text(deals["category"]),
        "probability": pd.to_numeric(deals["used_probability"], errors="coerce").astype(float),
        "weighted": pd.to_numeric(deals["weighted"], errors="coerce").astype(float),
        "is_open": deals["is_open"].astype(bool),
        "is_won": deals["is_won"].astype(bool),
    })
    return normalized(out)


def normalized(state: pd.DataFrame) -> pd.DataFrame:
    """A state (deal_id and TRACKED) in one canonical form: sorted by deal id, fresh index,
    texts as str or None, numbers as float, dates as datetime64[ns], is_open and is_won as bool."""
    out = state.loc[:, ["deal_id", *TRACKED]].copy()
    for col in _TEXT:
        out[col] = _text(out[col])
    for col in _NUMBERS:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["close_date"] = pd.to_datetime(out["close_date"]).astype("datetime64[ns]")
    for col in ("is_open", "is_won"):
        out[col] = out[col].astype(bool)
    return out.sort_values("deal_id", kind="stable").reset_index(drop=True)


def _differs(a: pd.Series, b: pd.Series) -> pd.Series:
    # A blank equals a blank; anything else compares by value.
    return ~((a.to_numpy() == b.to_numpy()) | (a.isna().to_numpy() & b.isna().to_numpy()))


def changes(latest: pd.DataFrame, state: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """What recording ``state`` changes, given each deal's latest version.

    Args:
        latest: the open versions (``deal_id`` and ``TRACKED``; other columns are ignored).
        state: the deals now (``tracked_fields``).

    Returns:
        (the rows of ``state`` that become new versions: new deals and deals with a tracked
        field that changed, in deal id order; the deal ids whose latest version ends: those
        that changed and those no longer in ``state``, sorted).

    Raises:
        ValueError: a deal id appears twice in ``state`` or in ``latest``.
    """
    for name, frame in (("state", state), ("latest", latest)):
        if frame["deal_id"].duplicated().any():
            raise ValueError(f"{name} holds a deal id twice")
    now, before = normalized(state), normalized(latest)
    both = now.merge(before, on="deal_id", how="left", suffixes=("", "_before"), indicator=True)
    seen = (both["_merge"] == "both").to_numpy()
    changed = pd.Series(False, index=both.index)
    for col in TRACKED:
        changed |= _differs(both[col], both[f"{col}_before"])
    new = now[~seen | changed.to_numpy()].reset_index(drop=True)
    ended = set(now.loc[seen & changed.to_numpy(), "deal_id"]) | (set(before["deal_id"]) - set(now["deal_id"]))
    return new, sorted(ended)


def _empty_versions() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in VERSION_COLUMNS}).pipe(
        lambda f: f.assign(valid_from=f["valid_from"].astype("Int64"), valid_to=f["valid_to"].astype("Int64")))


def record(versions: pd.DataFrame | None, state: pd.DataFrame, snapshot: int) -> pd.DataFrame:
    """The versions after recording ``state`` as snapshot ``snapshot``.

    Args:
        versions: every version so far (``VERSION_COLUMNS``), or None for none.
        state: the deals at this snapshot (``tracked_fields``).
        snapshot: this snapshot's number, above every number in ``versions``.

    Returns:
        The versions with the ended ones' ``valid_to`` set to ``snapshot`` and the new ones
        (``valid_from`` = ``snapshot``, ``valid_to`` blank) appended; recording the state the
        versions already hold adds and ends nothing.
    """
    versions = _empty_versions() if versions is None else versions
    if len(versions) and int(versions["valid_from"].max()) >= snapshot:
        raise ValueError(f"snapshot {snapshot} is not after the versions' last ({int(versions['valid_from'].max())})")
    open_ = versions["valid_to"].isna()
    new, ended = changes(versions[open_], state)
    out = versions.copy()
    out["valid_to"] = out["valid_to"].astype("Int64")
    out.loc[open_ & out["deal_id"].isin(ended), "valid_to"] = snapshot
    added = new.assign(valid_from=snapshot, valid_to=pd.NA).astype({"valid_from": "Int64", "valid_to": "Int64"})
    return pd.concat([out, added], ignore_index=True) if len(out) else added.reset_index(drop=True)


def state_as_of(versions: pd.DataFrame, snapshot: int) -> pd.DataFrame:
    """The deals as they stood at snapshot ``snapshot``: each deal's version valid then.

    Returns:
        ``deal_id`` and ``TRACKED`` (``normalized``): the versions with ``valid_from <=
        snapshot`` and ``valid_to`` blank or after it.
    """
    valid_from, valid_to = versions["valid_from"].astype("Int64"), versions["valid_to"].astype("Int64")
    valid = (valid_from <= snapshot) & (valid_to.isna() | (valid_to > snapshot))
    return normalized(versions[valid.fillna(False).to_numpy(bool)])
