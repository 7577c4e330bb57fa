"""The snapshot store: deal versions and forecast figures in a database, through SQLAlchemy Core.

By default a SQLite file beside the workbook, named from it (``Q4 Forecast.xlsm`` ->
``Q4 Forecast.funnel.db``), in rollback-journal mode so that nothing but that one file is
left at rest (no ``-wal`` / ``-shm``: a workbook folder on a synced drive stays consistent).
A URL (``postgresql+psycopg://host/db``) points a team at PostgreSQL: the same schema, the
same code.

Tables (``SCHEMA_VERSION`` 2):

    schema_version   the one row saying which version of this schema the store holds
    books            one row per workbook: what a snapshot locks, so snapshots of one book
                     are recorded one after the other
    snapshots        id, book, taken_at (UTC), as_of, deals, changed, open_deals,
                     open_amount, weighted, language, origin (``ORIGINS``: recorded by a
                     refresh, reconstructed from the stage history, imported from a CRM's
                     history export)
    deal_versions    book, deal_id, the tracked fields (``funnel.snapshots.TRACKED``),
                     valid_from / valid_to (snapshot ids; valid_to blank while current),
                     digest (a 64-bit hash of the tracked fields, ``digests``)
    forecast_figures per snapshot: ``funnel.snapshots.FIGURE_COLUMNS``

A deal gets a version row only when a tracked field changed since its latest version
(``funnel.snapshots.changes``). A snapshot finds those deals with one query: each current
version's digest against the digest of the deal now; only the deals whose digests differ
are read whole and compared field by field (so a digest is never trusted to say "changed").
Recording the same data again on the same date writes nothing at all; on a later date it
records the snapshot row alone, since "nothing changed by that date" is itself history (its
``changed`` is 0). Each snapshot is one transaction: killed midway, the store is as it was.

Schema versions, each step applied in order in one transaction when a store of an older
version is opened to write (a reader opens it as it is; ``_migrate``):

    1   the first version
    2   deal_versions.digest, filled for the current versions
    3   snapshots.origin (every snapshot of an older store was recorded by a refresh)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from funnel import catalog
from funnel.snapshots import FIGURE_COLUMNS, TRACKED, changes, forecast_figures, normalized, tracked_fields

__all__ = ["SCHEMA_VERSION", "ORIGINS", "Store", "StoreError", "Recorded", "default_url", "store_url", "snapshot_url",
           "is_off", "book_name", "digests", "record_analysis"]

SCHEMA_VERSION = 3
# Where a snapshot came from: a refresh or ``funnel snapshot`` (recorded), a backfill from the
# Stage history table or the demo's generated history (reconstructed: what was not recorded is
# as known now), a CRM's history export (imported).
ORIGINS = ("recorded", "reconstructed", "imported")
# How long a snapshot waits for another writer of a SQLite file before saying it is locked.
BUSY_SECONDS = 5.0
# How long a connection to a server may take before it is unreachable.
CONNECT_SECONDS = 5

_metadata = MetaData()
_schema_version = Table("schema_version", _metadata, Column("version", Integer, nullable=False))
_books = Table("books", _metadata, Column("name", String(255), primary_key=True))
_snapshots = Table(
    "snapshots", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("book", String(255), ForeignKey("books.name"), nullable=False),
    Column("taken_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("open_deals", Integer, nullable=False),
    Column("open_amount", Float, nullable=False),
    Column("weighted", Float, nullable=False),
    Column("language", String(16), nullable=False),  # the workbook's, for what lists the snapshots
    Column("origin", String(32), nullable=False, server_default="recorded"),  # one of ORIGINS (version 3)
    Index("snapshots_by_book", "book", "as_of"),
)
_deal_versions = Table(
    "deal_versions", _metadata,
    Column("book", String(255), nullable=False),
    Column("deal_id", String(255), nullable=False),
    *(Column(name, Float if name in ("amount", "probability", "weighted") else Date if name == "close_date"
             else Boolean if name in ("is_open", "is_won") else String(255)) for name in TRACKED),
    Column("valid_from", Integer, ForeignKey("snapshots.id"), nullable=False),
    Column("valid_to", Integer, ForeignKey("snapshots.id")),
    Column("digest", BigInteger),  # blank only in a version-1 store not yet written to
    PrimaryKeyConstraint("book", "deal_id", "valid_from"),
    # The database itself refuses a second current version of a deal.
    Index("one_current_version", "book", "deal_id", unique=True,
          sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
    Index("versions_valid_from", "book", "valid_from"),
    # What a snapshot compares against, read from the index alone.
    Index("current_digests", "book", "deal_id", "digest",
          sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
)
_forecast_figures = Table(
    "forecast_figures", _metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), nullable=False),
    *(Column(name, String(255) if name in ("period", "team", "owner") else Float, nullable=name in FIGURE_COLUMNS[3:])
      for name in FIGURE_COLUMNS),
    PrimaryKeyConstraint("snapshot_id", "period", "team", "owner"),
)
# Serialises creating the schema on a server (two first snapshots at once).
_CREATE_LOCK = 7_160_416
# Deal ids bound in one query (SQLite's oldest limit is 999 variables).
_IDS_A_QUERY = 900
_ABSENT = object()


def digests(state: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each deal's tracked fields (``state`` as ``funnel.snapshots.normalized``
    gives it), as signed integers a database column holds: equal fields, equal digests."""
    hashed = pd.util.hash_pandas_object(state.loc[:, list(TRACKED)], index=False)
    return hashed.to_numpy(np.uint64).view(np.int64)


def _same_figures(stored: pd.DataFrame, figures: pd.DataFrame) -> bool:
    # The same forecast rows, blanks matching blanks, whatever the order.
    def canonical(frame):
        frame = frame.reindex(columns=list(FIGURE_COLUMNS))
        frame = frame.assign(**{c: frame[c].astype(str) for c in FIGURE_COLUMNS[:3]},
                             **{c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in FIGURE_COLUMNS[3:]})
        return frame.sort_values(list(FIGURE_COLUMNS[:3]), kind="stable").reset_index(drop=True)
    if len(stored) != len(figures):
        return False
    return canonical(stored).equals(canonical(figures))


def _migrate(conn: Connection, found: int) -> None:
    # A store of an earlier schema version brought to this one, inside the caller's transaction.
    if found < 2:
        conn.execute(text("ALTER TABLE deal_versions ADD COLUMN digest BIGINT"))
        index = next(i for i in _deal_versions.indexes if i.name == "current_digests")
        index.create(conn)
        v = _deal_versions.c
        current = _frame(conn.execute(select(v.book, v.deal_id, v.valid_from, *(v[n] for n in TRACKED))
                                      .where(v.valid_to.is_(None))), ["book", "deal_id", "valid_from", *TRACKED])
        if len(current):
            keys = current[["book", "valid_from"]]
            state = normalized(current)
            # normalized sorts by deal id; keep each row's book and valid_from beside it.
            keys = keys.loc[current.sort_values("deal_id", kind="stable").index].reset_index(drop=True)
            rows = [{"b_book": b, "b_deal": d, "b_from": int(f), "b_digest": int(h)}
                    for b, d, f, h in zip(keys["book"], state["deal_id"], keys["valid_from"], digests(state))]
            conn.execute(update(_deal_versions).where(v.book == bindparam("b_book"), v.deal_id == bindparam("b_deal"),
                                                      v.valid_from == bindparam("b_from"))
                         .values(digest=bindparam("b_digest")), rows)
    if found < 3:
        conn.execute(text("ALTER TABLE snapshots ADD COLUMN origin VARCHAR(32) NOT NULL DEFAULT 'recorded'"))
    conn.execute(update(_schema_version).values(version=SCHEMA_VERSION))


class StoreError(Exception):
    """The store cannot be used: one catalog message, in either language.

    Args:
        key: the catalog key of the message (``store.locked``, ...).
        **fields: the message's fields.
    """

    def __init__(self, key: str, **fields: object) -> None:
        self.key, self.fields = key, fields
        super().__init__(catalog.text(key, "en", **fields))

    def message(self, language: str) -> str:
        return catalog.text(self.key, language, **self.fields)


@dataclass(frozen=True)
class Recorded:
    """What one snapshot recorded."""

    id: int
    as_of: dt.date
    deals: int
    changed: int
    new_versions: int
    # False: the store already held this very data as of that date, and nothing was written
    # (``id`` is then that snapshot's).
    written: bool = True


def default_url(book: str | Path) -> str:
    """The SQLite store beside a workbook: ``Q4 Forecast.xlsm`` -> ``Q4 Forecast.funnel.db``."""
    path = Path(book).resolve()
    return "sqlite:///" + str(path.with_name(f"{path.stem}.funnel.db"))


def store_url(value: str) -> str:
    """What ``--store`` says as a URL: a URL as it is, a plain path as a SQLite file there."""
    return value if "://" in value else "sqlite:///" + str(Path(value).expanduser().resolve())


def is_off(setting: str | None) -> bool:
    """Whether the ``store`` setting turns snapshots off (``off`` or ``none``, either language)."""
    value = (setting or "").strip().casefold()
    return value == "none" or value in {word.casefold() for word in catalog.entry("setting.store.off")}


def snapshot_url(setting: str | None, book: Path | None) -> str | None:
    """Where a refresh of the workbook at ``book`` records its snapshot.

    Args:
        setting: the ``store`` setting: a URL as it is; a path, relative to the workbook's
            folder; blank: ``default_url(book)``.
        book: the workbook's file; None for a workbook never saved.

    Returns:
        The store's URL; None when snapshots are off (``is_off``) or there is no place to
        put it (a book never saved, and no setting naming a URL or an absolute path).
    """
    value = (setting or "").strip()
    if is_off(value):
        return None
    if "://" in value:
        return value
    if value:
        path = Path(value).expanduser()
        if not path.is_absolute():
            if book is None:
                return None
            path = Path(book).resolve().parent / path
        return "sqlite:///" + str(path.resolve())
    return default_url(book) if book is not None else None


def book_name(book: str | Path) -> str:
    """The name a workbook's snapshots go under in a store: its file name without the suffix."""
    return Path(book).stem


def record_analysis(url: str, name: str, analysis) -> Recorded:
    """Record one snapshot of an analysis (``funnel.analysis.Analysis``): its deals' tracked
    fields and its forecast figures, as of its ``as_of`` setting, in the store at ``url``.

    Raises:
        StoreError: the store cannot be opened or written.
    """
    state = tracked_fields(analysis.deals)
    figures = forecast_figures(analysis.forecast, analysis.forecast_periods, analysis.range_forecast)
    settings = analysis.settings
    with Store(url, busy_seconds=BUSY_SECONDS) as store:
        return store.record(name, settings.as_of, state, figures, language=settings.language)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


class Store:
    """One snapshot store, opened (and created when new) at ``url``.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.funnel.db``, ``postgresql+psycopg://...``).
        busy_seconds: how long to wait for another SQLite writer.
        create: create the schema in a store that has none; with False such a store reads
            as empty and nothing is written (what listing the history needs).

    Raises:
        StoreError: a bad URL, a missing driver, an unreachable server, an unwritable or
            locked file, a store made by a newer version of funnel.
    """

    def __init__(self, url: str, *, busy_seconds: float = BUSY_SECONDS, create: bool = True) -> None:
        self.url = url
        self.where = _where(url)
        self._sqlite_path = None
        try:
            parsed = make_url(url)
            self.dialect = parsed.get_backend_name()
            self._sqlite_path = _sqlite_file(url)
            args = {"connect_timeout": CONNECT_SECONDS} if self.dialect == "postgresql" else {}
            self.engine: Engine = create_engine(url, connect_args=args)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as err:
            raise StoreError("store.bad_url", store=self.where, detail=_first_line(err)) from err
        if self.dialect == "sqlite":
            _sqlite_transactions(self.engine, busy_seconds)
        self.empty = False
        self.version: int | None = None  # the store's schema version once open
        with self._errors():
            self._open(create)

    def close(self) -> None:
        """Let go of every connection (a SQLite file is then closed, its journal gone)."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- opening ------------------------------------------------------------------------------

    def _open(self, create: bool) -> None:
        if not create and self._sqlite_path is not None and not self._sqlite_path.exists():
            self.empty = True  # listing a store that was never written creates no file
            return
        # Read first: opening a store that has its schema writes nothing and takes no lock.
        with self._begin(write=False) as conn:
            found = self._schema(conn)
        if create and (found is None or found < SCHEMA_VERSION):
            with self._begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text(f"SELECT pg_advisory_xact_lock({_CREATE_LOCK})"))
                found = self._schema(conn)  # as it is now: somebody may have done it meanwhile
                if found is None:
                    _metadata.create_all(conn)
                    conn.execute(_schema_version.insert().values(version=SCHEMA_VERSION))
                elif found < SCHEMA_VERSION:
                    _migrate(conn, found)
            found = SCHEMA_VERSION
        self.empty = found is None and not create
        # What a store opened only to read (``create=False``) holds may be an older schema.
        self.version = found

    def _schema(self, conn: Connection) -> int | None:
        # The store's schema version (None: no schema yet); refused when newer than ours.
        if not inspect(conn).has_table("schema_version"):
            return None
        found = conn.execute(select(func.max(_schema_version.c.version))).scalar()
        if found is not None and found > SCHEMA_VERSION:
            raise StoreError("store.newer", store=self.where, found=found, known=SCHEMA_VERSION)
        return found

    def _begin(self, write: bool = True):
        conn = self.engine.connect()
        if not write:
            conn.execution_options(funnel_read_only=True)
        return _Transaction(conn)

    def _errors(self):
        return _Errors(self)

    # --- writing --------------------------------------------------------------------------------

    def record(self, book: str, as_of: dt.date, state: pd.DataFrame, figures: pd.DataFrame,
               taken_at: dt.datetime | None = None, language: str = "en", origin: str = "recorded") -> Recorded:
        """Record one snapshot of a book, in one transaction.

        Args:
            book: the workbook's name in the store (``book_name``).
            as_of: the date the figures are as of; not before the book's latest snapshot.
            state: the deals (``funnel.snapshots.tracked_fields``).
            figures: the forecast figures (``funnel.snapshots.forecast_figures``).
            taken_at: when it was taken (UTC); now when None.
            language: the workbook's language (``funnel history`` speaks it).
            origin: where the snapshot came from (``ORIGINS``): ``reconstructed`` and
                ``imported`` mark a backfill's past snapshots.

        Raises:
            StoreError: the store cannot be written, or ``as_of`` is before the book's latest
                snapshot (versions follow the order of the dates).
        """
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got '{origin}'")
        taken_at = taken_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        state = normalized(state)
        if state["deal_id"].duplicated().any():
            raise ValueError("state holds a deal id twice")
        digest = digests(state)
        with self._errors(), self._begin() as conn:
            self._lock_book(conn, book)
            s = _snapshots.c
            latest = conn.execute(select(s.id, s.as_of).where(s.book == book).order_by(s.id.desc()).limit(1)).first()
            if latest is not None and as_of < latest.as_of:
                raise StoreError("store.earlier", as_of=as_of.isoformat(), latest=latest.as_of.isoformat())
            new, ended = self._changes(conn, book, state, digest)
            changed = len(set(new["deal_id"]) | set(ended))
            if (not changed and latest is not None and latest.as_of == as_of
                    and _same_figures(self._figures(conn, latest.id), figures)):
                return Recorded(int(latest.id), as_of, len(state), 0, 0, written=False)
            is_open = state["is_open"].to_numpy(bool)
            snapshot_id = conn.execute(_snapshots.insert().values(
                book=book, taken_at=taken_at, as_of=as_of, deals=len(state), changed=changed,
                open_deals=int(is_open.sum()), open_amount=float(state.loc[is_open, "amount"].fillna(0.0).sum()),
                weighted=float(state.loc[is_open, "weighted"].fillna(0.0).sum()), language=language, origin=origin,
            )).inserted_primary_key[0]
            if ended:
                self._many(conn, "UPDATE deal_versions SET valid_to = {} WHERE book = {} AND deal_id = {} "
                           "AND valid_to IS NULL", [(int(snapshot_id), book, deal_id) for deal_id in ended])
            if len(new):
                names = ["book", "deal_id", *TRACKED, "valid_from", "valid_to", "digest"]
                rows = _rows(new.assign(book=book, valid_from=snapshot_id, valid_to=None,
                                        digest=digest[new.index.to_numpy()]).loc[:, names], self.dialect)
                self._many(conn, f"INSERT INTO deal_versions ({', '.join(names)}) VALUES ({', '.join(['{}'] * len(names))})",
                           rows)
            if len(figures):
                conn.execute(_forecast_figures.insert(), _rows(figures.reindex(columns=list(FIGURE_COLUMNS))
                                                                .assign(snapshot_id=snapshot_id)))
        return Recorded(int(snapshot_id), as_of, len(state), changed, len(new))

    def _changes(self, conn: Connection, book: str, state: pd.DataFrame,
                 digest: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
        # ``funnel.snapshots.changes`` against the book's current versions, reading only the
        # digests of all of them and the whole versions of the deals whose digest differs.
        # ``new`` keeps ``state``'s index (the digests' positions).
        current_ids, current_digests = self._current_digests(conn, book)
        ids = state["deal_id"].to_numpy(object)
        if len(current_ids) == len(ids) and (current_ids == ids).all():
            position = np.arange(len(ids))  # the same deals in the same order: no lookup
        else:
            position = pd.Index(current_ids, dtype=object).get_indexer(ids)
        seen = position >= 0
        # A blank digest (a version-1 store's) never matches: that deal is compared whole.
        blank = np.append(pd.isna(current_digests), True)  # a last blank: where unseen deals point
        found = np.append(np.where(blank[:-1], 0, current_digests).astype(np.int64), 0)
        at = np.where(seen, position, len(found) - 1)
        differs = blank[at] | (found[at] != digest)
        kept = np.zeros(len(current_ids), dtype=bool)
        kept[position[seen]] = True
        gone = [deal_id for deal_id, k in zip(current_ids, kept) if not k]
        suspects = state[differs & seen]
        versions = self._current(conn, book, suspects["deal_id"].tolist())
        new_seen, ended = changes(versions, suspects) if len(suspects) else (suspects.iloc[:0], [])
        new = state[~seen | state["deal_id"].isin(set(new_seen["deal_id"])).to_numpy()]
        return new, sorted(set(ended) | set(gone))

    def _lock_book(self, conn: Connection, book: str) -> None:
        # The book's row, locked until commit: a second snapshot of the book waits here. (SQLite
        # has already locked the whole file with BEGIN IMMEDIATE.)
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            insert = None
        if insert is not None:
            conn.execute(insert(_books).values(name=book).on_conflict_do_nothing())
        elif conn.execute(select(_books.c.name).where(_books.c.name == book)).first() is None:
            conn.execute(_books.insert().values(name=book))
        conn.execute(select(_books.c.name).where(_books.c.name == book).with_for_update())

    # --- reading --------------------------------------------------------------------------------

    def _many(self, conn: Connection, sql: str, rows: list[tuple]) -> None:
        # One statement for many rows through the driver's executemany ({} marks each
        # parameter): SQLAlchemy's own handling of each row's parameters costs more than the
        # database's work on a snapshot's thousands of rows.
        if self.dialect not in ("sqlite", "postgresql"):
            names = [f"p{i}" for i in range(sql.count("{}"))]
            conn.execute(text(sql.format(*(f":{n}" for n in names))), [dict(zip(names, row)) for row in rows])
            return
        mark = "?" if self.dialect == "sqlite" else "%s"
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(sql.format(*[mark] * sql.count("{}")), rows)
        finally:
            cursor.close()

    def _current_digests(self, conn: Connection, book: str) -> tuple[np.ndarray, np.ndarray]:
        # (deal ids, digests) of the book's current versions: the one query a snapshot reads
        # every deal with, through the driver's own cursor (SQLAlchemy's rows cost as much as
        # the query at 100k deals) and, on SQLite, from the covering index alone.
        if self.dialect == "sqlite":
            sql = ("SELECT deal_id, digest FROM deal_versions INDEXED BY current_digests "
                   "WHERE book = ? AND valid_to IS NULL")
        elif self.dialect == "postgresql":
            sql = "SELECT deal_id, digest FROM deal_versions WHERE book = %s AND valid_to IS NULL"
        else:
            v = _deal_versions.c
            query = select(v.deal_id, v.digest).where(v.book == book, v.valid_to.is_(None))
            return tuple(_columns([tuple(row) for row in conn.execute(query)], 2))
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, (book,))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return tuple(_columns(rows, 2))

    def _current(self, conn: Connection, book: str, deal_ids: list[str]) -> pd.DataFrame:
        # The current versions of these deals, a few hundred ids to a query.
        v = _deal_versions.c
        query = select(v.deal_id, *(v[name] for name in TRACKED)).where(
            v.book == book, v.valid_to.is_(None), v.deal_id.in_(bindparam("ids", expanding=True)))
        rows = []
        for i in range(0, len(deal_ids), _IDS_A_QUERY):
            rows.extend(conn.execute(query, {"ids": deal_ids[i:i + _IDS_A_QUERY]}).all())
        return _frame(rows, ["deal_id", *TRACKED])

    def _figures(self, conn: Connection, snapshot: int) -> pd.DataFrame:
        f = _forecast_figures.c
        return _frame(conn.execute(select(*(f[n] for n in FIGURE_COLUMNS)).where(f.snapshot_id == snapshot)),
                      list(FIGURE_COLUMNS))

    def state(self, book: str, snapshot: int | None = None, as_of: dt.date | None = None) -> pd.DataFrame:
        """The deals as they stood at a snapshot, or on a date (its latest snapshot then), in
        one query: the versions valid then (``funnel.snapshots.state_as_of``'s rule).

        Args:
            snapshot: the snapshot's id; None with ``as_of`` None: the latest.
            as_of: a date: the book's latest snapshot with ``as_of`` on or before it.
        """
        v, s = _deal_versions.c, _snapshots.c
        if self.empty:
            return normalized(pd.DataFrame(columns=["deal_id", *TRACKED]))
        with self._errors(), self._begin(write=False) as conn:
            if snapshot is None:
                which = select(func.max(s.id)).where(s.book == book)
                snapshot = conn.execute(which.where(s.as_of <= as_of) if as_of is not None else which).scalar()
                if snapshot is None:
                    return normalized(pd.DataFrame(columns=["deal_id", *TRACKED]))
            query = select(v.deal_id, *(v[name] for name in TRACKED)).where(
                v.book == book, v.valid_from <= int(snapshot), (v.valid_to.is_(None)) | (v.valid_to > int(snapshot)))
            return normalized(_typed(self._fetch(conn, query), ["deal_id", *TRACKED]))

    def states(self, book: str, snapshots: list[int]) -> list[pd.DataFrame]:
        """The deals at each of several snapshots (``state`` for each), in one query: the
        versions valid at any of them, which two snapshots close together mostly share."""
        if self.empty or not snapshots:
            return [normalized(pd.DataFrame(columns=["deal_id", *TRACKED])) for _ in snapshots]
        v = _deal_versions.c
        first, last = min(snapshots), max(snapshots)
        query = select(v.deal_id, *(v[name] for name in TRACKED), v.valid_from, v.valid_to).where(
            v.book == book, v.valid_from <= int(last), (v.valid_to.is_(None)) | (v.valid_to > int(first)))
        with self._errors(), self._begin(write=False) as conn:
            rows = self._fetch(conn, query)
        names = ["deal_id", *TRACKED, "valid_from", "valid_to"]
        frame = _typed(rows, names)
        # Sorted by deal id once (stable): each snapshot's versions, one a deal, are then in
        # ``normalized``'s order; the driver's texts are str or None already, so the rest of
        # its work is the dates' unit (``test_store`` holds this to ``state``'s answers).
        frame = frame.take(np.argsort(frame["deal_id"].to_numpy(object), kind="stable")).reset_index(drop=True)
        frame["close_date"] = frame["close_date"].astype("datetime64[ns]")
        valid_from = frame.pop("valid_from").to_numpy(np.int64)
        valid_to = frame.pop("valid_to").to_numpy(float)  # blank (NaN): still current
        return [frame[(valid_from <= at) & ~(valid_to <= at)].reset_index(drop=True) for at in snapshots]

    def _fetch(self, conn: Connection, query) -> list[tuple]:
        # A query's rows as the driver gives them (tuples, SQLite's dates as text), through its
        # own cursor: SQLAlchemy's rows cost more than the query at 100k deals. Only for
        # queries whose parameters are numbers and text (they need no conversion).
        if self.dialect not in ("sqlite", "postgresql"):
            return [tuple(row) for row in conn.execute(query)]
        compiled = query.compile(dialect=conn.dialect)
        params = compiled.construct_params()
        args = tuple(params[name] for name in compiled.positiontup) if compiled.positional else params
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(str(compiled), args)
            return cursor.fetchall()
        finally:
            cursor.close()

    def versions(self, book: str) -> pd.DataFrame:
        """Every version of the book's deals (``funnel.snapshots.VERSION_COLUMNS``)."""
        v = _deal_versions.c
        names = ["deal_id", *TRACKED, "valid_from", "valid_to"]
        if self.empty:
            return pd.DataFrame(columns=names)
        with self._errors(), self._begin(write=False) as conn:
            out = _frame(conn.execute(select(*(v[n] for n in names)).where(v.book == book)), names)
        # Sorted here, not by the database: a server's collation may order deal ids otherwise.
        out = out.sort_values(["deal_id", "valid_from"], kind="stable").reset_index(drop=True)
        keys = out[["valid_from", "valid_to"]].astype("Int64")
        return normalized(out).assign(valid_from=keys["valid_from"], valid_to=keys["valid_to"])

    def history(self, book: str) -> pd.DataFrame:
        """The book's snapshots, oldest first: id, taken_at, as_of, deals, changed, open_deals,
        open_amount, weighted, language, origin (``ORIGINS``)."""
        s = _snapshots.c
        names = ["id", "taken_at", "as_of", "deals", "changed", "open_deals", "open_amount", "weighted", "language", "origin"]
        if self.empty:
            return pd.DataFrame(columns=names)
        # A store older than version 3 opened only to read has no origin column: all its snapshots were recorded.
        columns = [s[n] for n in names[:-1]] + [s.origin if (self.version or SCHEMA_VERSION) >= 3
                                                 else literal("recorded", String).label("origin")]
        with self._errors(), self._begin(write=False) as conn:
            return _frame(conn.execute(select(*columns).where(s.book == book).order_by(s.id)), names)

    def figures(self, snapshot: int) -> pd.DataFrame:
        """The forecast figures one snapshot recorded (``FIGURE_COLUMNS``)."""
        if self.empty:
            return pd.DataFrame(columns=list(FIGURE_COLUMNS))
        with self._errors(), self._begin(write=False) as conn:
            return self._figures(conn, snapshot).sort_values(["period", "team", "owner"], kind="stable").reset_index(drop=True)


    # --- putting snapshots before a book's existing ones (backfill) ------------------------------

    def forget(self, book: str) -> None:
        """Delete a book's snapshots, versions and figures, in one transaction (what a backfill
        does to a scratch book a killed backfill left behind)."""
        with self._errors(), self._begin() as conn:
            _delete_book(conn, book)

    def replace_book(self, book: str, by: str) -> None:
        """Put the snapshots of book ``by`` in the place of book ``book``'s, in one transaction:
        ``book``'s snapshots, versions and figures are deleted and ``by``'s renamed ``book``.
        A backfill records a book's past days and its existing snapshots again, in date order,
        under a scratch name, then swaps them in here: killed before, the book is as it was."""
        with self._errors(), self._begin() as conn:
            self._lock_book(conn, book)
            self._lock_book(conn, by)
            _delete_book(conn, book, keep_name=True)
            conn.execute(update(_deal_versions).where(_deal_versions.c.book == by).values(book=book))
            conn.execute(update(_snapshots).where(_snapshots.c.book == by).values(book=book))
            conn.execute(delete(_books).where(_books.c.name == by))


def _delete_book(conn: Connection, book: str, keep_name: bool = False) -> None:
    s = _snapshots.c
    ids = select(s.id).where(s.book == book)
    conn.execute(delete(_forecast_figures).where(_forecast_figures.c.snapshot_id.in_(ids)))
    conn.execute(delete(_deal_versions).where(_deal_versions.c.book == book))
    conn.execute(delete(_snapshots).where(s.book == book))
    if not keep_name:
        conn.execute(delete(_books).where(_books.c.name == book))


# --- connections, transactions and their errors ------------------------------------------------

def _sqlite_transactions(engine: Engine, busy_seconds: float) -> None:
    # pysqlite begins transactions late and on its own; SQLAlchemy's recipe: let it do
    # nothing and say BEGIN ourselves. A snapshot's BEGIN IMMEDIATE takes the write lock at
    # once, so two writers queue (busy_timeout) instead of failing half way.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # The rollback journal: one file at rest, never a -wal beside it (a file some other
        # program left in WAL mode is put back; that needs no transaction open).
        cursor.execute("PRAGMA journal_mode = DELETE")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if conn.get_execution_options().get("funnel_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Transaction:
    # A connection and its transaction: committed when the block ends well, else rolled back.
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        try:
            self.transaction = self.conn.begin()
        except BaseException:
            self.conn.close()
            raise
        return self.conn

    def __exit__(self, kind, error, tb) -> None:
        try:
            if kind is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            self.conn.close()


class _Errors:
    # A database's error as one StoreError naming the store.
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or isinstance(error, StoreError) or not isinstance(error, (SQLAlchemyError, OSError)):
            return False
        raise _translated(self.store, error) from error


def _translated(store: Store, error: BaseException) -> StoreError:
    detail = _first_line(getattr(error, "orig", None) or error)
    low = detail.lower()
    if store.dialect == "sqlite":
        if "locked" in low or "busy" in low:
            return StoreError("store.locked", store=store.where)
        if "readonly" in low or "read-only" in low or "unable to open" in low or "disk i/o" in low or isinstance(error, OSError):
            return StoreError("store.unwritable", store=store.where, detail=detail)
        if "not a database" in low or "malformed" in low:
            return StoreError("store.damaged", store=store.where, detail=detail)
    elif isinstance(error, DBAPIError) and error.connection_invalidated or _is_connect_error(error):
        return StoreError("store.unreachable", store=store.where, detail=detail)
    return StoreError("store.failed", store=store.where, detail=detail)


def _is_connect_error(error: BaseException) -> bool:
    low = _first_line(getattr(error, "orig", None) or error).lower()
    return any(word in low for word in ("connection refused", "could not connect", "timeout expired", "connection failed",
                                        "could not translate host", "name or service not known", "no route to host"))


def _first_line(error: object) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _where(url: str) -> str:
    # The store as a user can name it, without a password.
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _frame(result, names: list[str]) -> pd.DataFrame:
    # Column by column: pandas probes each Row object when given rows (seconds at 100k).
    rows = result.all() if hasattr(result, "all") else result
    columns = list(zip(*rows)) or [()] * len(names)
    return pd.DataFrame({name: pd.Series(list(values)) for name, values in zip(names, columns)})


def _columns(rows: list[tuple], width: int) -> list[np.ndarray]:
    # Driver rows as one object array per column (numpy's loop, not zip's: a quarter of the time).
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(width)]
    table = np.empty((len(rows), width), dtype=object)
    table[:] = rows
    return [table[:, i] for i in range(width)]


def _typed(rows: list[tuple], names: list[str]) -> pd.DataFrame:
    # Driver rows of deal_id and TRACKED as a frame ``normalized`` takes: numbers as float,
    # dates from SQLite's ISO text or a server's dates, flags as bool.
    columns = dict(zip(names, _columns(rows, len(names))))
    out = {}
    for name, values in columns.items():
        if name in ("amount", "probability", "weighted", "valid_to"):
            out[name] = np.array(values, dtype=float)  # None is NaN
        elif name == "close_date":
            values = pd.Series(values, dtype=object)
            text_dates = pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
            out[name] = pd.to_datetime(values, format="%Y-%m-%d" if text_dates else None)
        elif name in ("is_open", "is_won"):
            out[name] = np.array(values, dtype=bool)
        elif name == "valid_from":
            out[name] = np.array(values, dtype=np.int64)
        else:
            out[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(out)


def _rows(frame: pd.DataFrame, dialect: str | None = None) -> list:
    # Rows as a database takes them: None for a blank, Python numbers and dates; column by
    # column (a call per cell is most of a snapshot's time at 100k deals). With a dialect:
    # tuples for that driver's executemany (SQLite's dates as the ISO text SQLAlchemy keeps),
    # else dicts for SQLAlchemy.
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = (values.dt.strftime("%Y-%m-%d") if dialect == "sqlite" else values.dt.date).to_numpy(object)
            columns[name] = np.where(values.isna().to_numpy(), None, days).tolist()
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values) and not values.hasnans:
            columns[name] = values.to_numpy().tolist()
        elif pd.api.types.is_float_dtype(values):
            numbers = values.to_numpy(float)
            columns[name] = np.where(np.isnan(numbers), None, numbers.astype(object)).tolist()
        else:
            out = values.astype(object).where(values.notna(), None)
            plain = pd.api.types.infer_dtype(out, skipna=True) in ("string", "empty")
            columns[name] = out.tolist() if plain else [v.item() if isinstance(v, np.generic) else v for v in out]
    if dialect is not None:
        return list(zip(*columns.values()))
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]
