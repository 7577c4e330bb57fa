"""Key columns as categorical codes: each text key is hashed once, at validation.

The analyses group, match and count deals by a handful of text keys (owner, team, stage,
source, ...) and a million history rows by deal id and stage. Hashing the same text over
and over is most of what such work costs, so ``encode_keys`` (the last step of
``funnel.inputs.validation.validate``) turns every key column into a pandas categorical
once. Its categories are the distinct texts in text order, so grouping, sorting and
comparing by the integer codes gives exactly what the text would (the history's deal
ids excepted: see ``encode_keys``).

The helpers here take a categorical column or a plain one, so every analysis also
accepts frames that did not come through ``validate``. Output tables show text, never
codes: ``plain`` turns categorical columns back into the text (``None`` where missing)
they were read as.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KEY_COLUMNS", "encode_keys", "categorical", "codes_and_labels", "in_order_of_appearance", "labelled", "decoded", "filled", "looked_up", "positions", "plain"]

# The key columns of each table: what the analyses group and match by.
KEY_COLUMNS = {
    "opportunities": ("owner", "team", "stage", "source", "product", "industry", "account", "competitors"),
    "stage_history": ("opportunity_id", "stage"),
}


def _is_categorical(values) -> bool:
    return isinstance(getattr(values, "dtype", None), pd.CategoricalDtype)


def categorical(values: pd.Series, categories=None, in_order: bool = False) -> pd.Series:
    """``values`` as a categorical column whose categories are text in text order.

    Args:
        values: a text column (missing values stay missing).
        categories: the categories to use (any order; they are sorted), e.g. every stage
            code of the scheme; values outside them join them.
        in_order: keep ``categories`` (distinct) in their given order instead, e.g. the
            deal ids, so that a code is the deal's row.
    """
    if _is_categorical(values):
        if categories is None:
            return values
        # Already hashed (validation reads the history's keys as categoricals): only its
        # categories some row holds are looked up among the given ones.
        codes, labels = codes_and_labels(values)
        used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(labels)))
        recode = np.full(len(labels) + 1, -1, dtype=np.intp)
        recode[used] = np.arange(len(used))
        codes, uniques = recode[codes], labels[used]
    else:
        # One factorize of the column (a hash table per row is the cost), then a lookup of
        # its distinct values only.
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=categories is None)
    uniques = pd.Index(uniques, dtype=object)  # an Index: a plain array would be copied into one
    if categories is None:
        labels = pd.Index(uniques, dtype=object)
    else:
        known = np.asarray(pd.unique(np.asarray(categories, dtype=object)), dtype=object)
        labels = pd.Index(known if in_order else np.sort(known), dtype=object)
        position = labels.get_indexer(uniques)
        if (position < 0).any():  # values outside the categories join them
            known = np.concatenate([known, uniques.to_numpy()[position < 0]])
            labels = pd.Index(known if in_order else np.sort(known), dtype=object)
            position = labels.get_indexer(uniques)
        codes = np.append(position, -1)[codes]
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(labels)), index=values.index, name=values.name)


def labelled(codes: np.ndarray, names, index: pd.Index | None = None) -> pd.Series:
    """A categorical column whose row i reads ``names[codes[i]]`` (code -1: missing), with
    the distinct names as categories in text order."""
    distinct, rank = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    rank = np.append(rank.reshape(-1), -1)
    dtype = pd.CategoricalDtype(pd.Index(distinct, dtype=object))
    return pd.Series(pd.Categorical.from_codes(rank[np.asarray(codes)], dtype=dtype), index=index)


def codes_and_labels(values, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) of a key column: row i holds ``labels[codes[i]]``, code -1 missing.

    ``labels`` are distinct: a categorical column's categories, its codes as they are (no
    text hashed; in text order as ``encode_keys`` makes them, the history's deal ids
    excepted), else those of one factorize, in text order as a group-by sorts them (with
    ``sort=False``, in order of appearance). Labels may include values no row holds (a
    categorical's unused categories).
    """
    if _is_categorical(values):
        cat = values.array if isinstance(values, (pd.Series, pd.Index)) else values
        return np.asarray(cat.codes, dtype=np.intp), np.asarray(cat.categories, dtype=object)
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=sort)
    return codes, np.asarray(uniques, dtype=object)


def in_order_of_appearance(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, labels)`` recoded so that the labels some row holds come in the order the
    rows first hold them (as ``pd.factorize`` gives them); unused labels are dropped."""
    used, first = np.unique(codes[codes >= 0], return_index=True)
    used = used[np.argsort(first, kind="stable")]
    recode = np.full(len(labels) + 1, -1, dtype=np.intp)
    recode[used] = np.arange(len(used))
    return recode[codes], labels[used]


def decoded(values) -> np.ndarray:
    """The text of a key column as an object array, ``None`` where missing."""
    if not _is_categorical(values):
        return np.asarray(values, dtype=object)
    codes, labels = codes_and_labels(values)
    return np.append(labels, np.array([None], dtype=object))[codes]


def filled(values: pd.Series, label: str) -> pd.Series:
    """``values.fillna(label)``, for a categorical column too (``label`` joins its
    categories in text order)."""
    if not _is_categorical(values):
        return values.fillna(label)
    codes, labels = codes_and_labels(values)
    missing = codes < 0
    if not missing.any():
        return values
    position = int(np.searchsorted(labels, label)) if len(labels) else 0
    if position < len(labels) and labels[position] == label:
        codes = np.where(missing, position, codes)
    else:
        labels = np.insert(labels, position, label)
        codes = np.where(missing, position, codes + (codes >= position))
    dtype = pd.CategoricalDtype(pd.Index(labels, dtype=object))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=values.index, name=values.name)


def looked_up(values, table: pd.Series) -> np.ndarray:
    """``values.map(table)`` as an array, looked up once per distinct value (NaN where
    ``table`` has no entry or the value is missing)."""
    codes, labels = codes_and_labels(values, sort=False)
    found = table.reindex(pd.Index(labels, dtype=object)).to_numpy()
    return np.append(found, np.array([np.nan], dtype=found.dtype if found.dtype == object else float))[codes]


def positions(index: pd.Index, values) -> np.ndarray:
    """Each value's position in ``index`` (unique), -1 where it is not there or missing.

    Looked up once per distinct value (a categorical column's categories, else those one
    factorize finds), not once per row; not at all when the categories are ``index``.
    """
    codes, labels = codes_and_labels(values, sort=False)
    labels = pd.Index(labels, dtype=object)  # as an Index: a plain array would be inferred into one
    if _is_categorical(values) and index.equals(labels):
        return codes
    return np.append(index.get_indexer(labels), -1)[codes]


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns as text (object, ``None`` where missing)."""
    cats = [name for name, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    if not cats:
        return frame
    out = frame.copy(deep=False)
    for name in cats:
        out[name] = pd.Series(decoded(frame[name]), index=frame.index, dtype=object)
    return out


def _used(values: pd.Series) -> pd.Series:
    # Validation reads the deals' keys as categoricals before it leaves rows out: only the
    # categories some row still holds, in their text order (what a factorize would find).
    if _is_categorical(values) and len(values.cat.categories):
        return values.cat.remove_unused_categories()
    return values


def encode_keys(inputs):
    """Turn the ``KEY_COLUMNS`` of validated ``Inputs`` into categoricals; returns them.

    Stage columns take every stage code of the scheme as categories, so a code means the
    same stage in both tables. The history's deal ids take every deal id, in the deals'
    order (not text order: nothing groups or sorts by them), so a code is the deal's row.
    """
    opps, history = inputs.opportunities, inputs.stage_history
    stage_codes = inputs.stages["code"]
    # One assign per table: setting columns one by one would copy the frame's blocks each time.
    inputs.opportunities = opps.assign(**{
        name: categorical(_used(opps[name]), stage_codes if name == "stage" else None)
        for name in KEY_COLUMNS["opportunities"] if name in opps.columns
    })
    if len(history):
        inputs.stage_history = history.assign(
            stage=categorical(history["stage"], stage_codes),
            opportunity_id=categorical(history["opportunity_id"], opps["id"].dropna(), in_order=True),
        )
    return inputs
