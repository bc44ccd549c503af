"""The database trail sink: SQLAlchemy 2 Core, SQLite or PostgreSQL.

Two tables of its own, `<prefix>_records` and `<prefix>_checkpoints` (default
prefix `dissemination_trail`), created when missing; nothing else in the
database is touched, so the trail can share the registry's database.

A record is stored in columns, one per field, and verified from those
columns: the `item` and `reader` columns that `audit disclosures` queries are
the very values the hash covers.

**Concurrency.** Appends are serialised by the database: on PostgreSQL a
transaction-scoped advisory lock named after the table; on SQLite a
`BEGIN IMMEDIATE` transaction (the sink's engine is its own). The record's
`seq` is the primary key, so should two writers ever race, one fails and
retries on the new head. **Crashes.** The record and its checkpoint are one
transaction: after a crash either both are there or neither.

SQLAlchemy's errors are translated here into `TrailError`, with any password
in the URL hidden.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from dissemination.audit.records import (
    GENESIS,
    Checkpoint,
    Checkpointer,
    Disclosure,
    DisclosureRecord,
    chain,
)
from dissemination.audit.sink import RawEntry
from dissemination.errors import TrailError

__all__ = ["DEFAULT_PREFIX", "DatabaseSink"]

DEFAULT_PREFIX = "dissemination_trail"
"""Tables `dissemination_trail_records` and `dissemination_trail_checkpoints`."""

_RETRIES = 20
_PAGE = 1000
_LIST_COLUMNS = ("portions", "subjects", "rules")


def _problem(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    name = type(original if original is not None else exc).__name__
    return f"database error (`{name}`)"


def _sqlite_serialised(engine: Engine) -> None:
    """Make every transaction of this SQLite engine `BEGIN IMMEDIATE`.

    pysqlite begins transactions lazily and only before writes, so two writers
    could both read the head before either writes. SQLAlchemy's documented
    recipe: turn pysqlite's own handling off and emit the BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # Write-ahead logging: one fsync per commit instead of several, still
        # durable (synchronous stays FULL), and readers do not block writers.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _add_decision_id(connection: Connection, table: sa.Table) -> None:
    """Give a records table made before `decision_id` existed that column (nullable)."""
    columns = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    if "decision_id" not in columns:
        connection.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN decision_id VARCHAR(200)"))


class DatabaseSink:
    """A trail in two tables of a SQL database."""

    unit = "row"

    def __init__(self, url: str | URL, *, prefix: str = DEFAULT_PREFIX) -> None:
        """Connect, and create the trail's tables when missing.

        Args:
            url: a SQLAlchemy URL (`sqlite:///trail.db`,
                `postgresql+psycopg://user@host/db`).
            prefix: the tables' name prefix.

        Raises:
            TrailError: the URL is malformed or names an unknown driver, or the
                database cannot be reached or written.
        """
        try:
            parsed = sa.make_url(url)
        except ArgumentError as exc:
            raise TrailError("not a database URL", target="<database>") from exc
        self.target = parsed.render_as_string(hide_password=True)
        self.prefix = prefix
        try:
            if parsed.get_backend_name() == "sqlite":
                self.engine = sa.create_engine(parsed, connect_args={"timeout": 60})
                _sqlite_serialised(self.engine)
            else:
                self.engine = sa.create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise TrailError("unknown database driver", target=self.target) from exc
        metadata = sa.MetaData()
        self._records = sa.Table(
            f"{prefix}_records",
            metadata,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("time", sa.String(40), nullable=False),
            sa.Column("reader", sa.String(200), nullable=False, index=True),
            sa.Column("item", sa.String(128), nullable=False, index=True),
            sa.Column("view", sa.String(16), nullable=False),
            sa.Column("portions", sa.Text, nullable=False),
            sa.Column("subjects", sa.Text, nullable=False),
            sa.Column("rules", sa.Text, nullable=False),
            sa.Column("policy", sa.String(100), nullable=False),
            sa.Column("decision_id", sa.String(200), nullable=True),
            sa.Column("prev", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
        )
        self._checkpoints = sa.Table(
            f"{prefix}_checkpoints",
            metadata,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("head", sa.String(64), nullable=False),
            sa.Column("time", sa.String(40), nullable=False),
            sa.Column("key_id", sa.String(64), nullable=False),
            sa.Column("signature", sa.String(200), nullable=False),
        )
        self._metadata = metadata
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"dissemination-trail:{prefix}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        try:
            # Under the append lock: writers starting together must not race
            # to create the same tables.
            with self.engine.begin() as connection:
                self._serialise(connection)
                metadata.create_all(connection)
                _add_decision_id(connection, self._records)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise TrailError(_problem(exc), target=self.target) from exc

    # -- writing -----------------------------------------------------------------

    def _serialise(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(self._lock_key)))

    def _head(self, connection: Connection) -> tuple[int, str]:
        row = connection.execute(
            sa.select(self._records.c.seq, self._records.c.hash)
            .order_by(self._records.c.seq.desc())
            .limit(1)
        ).first()
        return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))

    def _insert_checkpoint(self, connection: Connection, checkpoint: Checkpoint) -> None:
        connection.execute(sa.insert(self._checkpoints).values(**checkpoint.data()))

    def append(
        self, disclosure: Disclosure, *, checkpointer: Checkpointer | None = None
    ) -> DisclosureRecord:
        """Chain and insert one disclosure (see `TrailSink.append`).

        Args:
            disclosure: what was disclosed.
            checkpointer: signs the head when due; None for no checkpoints.

        Returns:
            The record written.

        Raises:
            TrailError: the database cannot be written.
        """
        for _attempt in range(_RETRIES):
            try:
                with self.engine.begin() as connection:
                    self._serialise(connection)
                    seq, head = self._head(connection)
                    record = chain(disclosure, seq=seq + 1, prev=head)
                    values = record.data()
                    for column in _LIST_COLUMNS:
                        values[column] = json.dumps(values[column])
                    connection.execute(sa.insert(self._records).values(**values))
                    if checkpointer is not None and checkpointer.due(record.seq):
                        now = dt.datetime.now(dt.UTC)
                        checkpoint = checkpointer.sign(record.seq, record.hash, at=now)
                        self._insert_checkpoint(connection, checkpoint)
            except IntegrityError:
                continue  # another writer took this seq; link to the new head
            except SQLAlchemyError as exc:
                raise TrailError(_problem(exc), target=self.target) from exc
            return record
        raise TrailError("could not append: too much contention", target=self.target)

    def checkpoint(self, checkpointer: Checkpointer) -> Checkpoint | None:
        """Sign and store the current head now (see `TrailSink.checkpoint`).

        Args:
            checkpointer: signs the head.

        Returns:
            The checkpoint, or None when the trail is empty or its head is
            signed already.

        Raises:
            TrailError: the database cannot be read or written.
        """
        try:
            with self.engine.begin() as connection:
                self._serialise(connection)
                seq, head = self._head(connection)
                if seq == 0:
                    return None
                done = connection.execute(
                    sa.select(self._checkpoints.c.seq).where(self._checkpoints.c.seq == seq)
                ).first()
                if done is not None:
                    return None
                checkpoint = checkpointer.sign(seq, head, at=dt.datetime.now(dt.UTC))
                self._insert_checkpoint(connection, checkpoint)
        except SQLAlchemyError as exc:
            raise TrailError(_problem(exc), target=self.target) from exc
        return checkpoint

    # -- reading -----------------------------------------------------------------

    def _rows(self, table: sa.Table) -> Iterator[RawEntry]:
        # Pages by key, each read in a short transaction: memory stays bounded
        # and no cursor is held open while the caller works between rows.
        position, last = 0, None
        while True:
            query = sa.select(table).order_by(table.c.seq).limit(_PAGE)
            if last is not None:
                query = query.where(table.c.seq > last)
            try:
                with self.engine.connect() as connection:
                    rows = [row._asdict() for row in connection.execute(query)]
            except SQLAlchemyError as exc:
                raise TrailError(_problem(exc), target=self.target) from exc
            for row in rows:
                position += 1
                yield RawEntry(position=position, data=self._data(row))
            if len(rows) < _PAGE:
                return
            last = rows[-1]["seq"]

    @staticmethod
    def _data(row: dict[str, Any]) -> dict[str, Any] | None:
        data = dict(row)
        if data.get("decision_id") is None:
            data.pop("decision_id", None)  # written without one: hashed without one
        for column in _LIST_COLUMNS:
            if column in data:
                try:
                    data[column] = json.loads(data[column])
                except (TypeError, ValueError):
                    return None
        return data

    def records(self) -> Iterator[RawEntry]:
        """Every record row, in `seq` order (see `TrailSink.records`).

        Yields:
            One entry per row.

        Raises:
            TrailError: the database cannot be read.
        """
        yield from self._rows(self._records)

    def checkpoints(self) -> Iterator[RawEntry]:
        """Every checkpoint row, in `seq` order (see `TrailSink.checkpoints`).

        Yields:
            One entry per row.

        Raises:
            TrailError: the database cannot be read.
        """
        yield from self._rows(self._checkpoints)

    def drop(self) -> None:
        """Drop the trail's tables (tests and teardown only).

        Raises:
            TrailError: the database cannot be written.
        """
        try:
            self._metadata.drop_all(self.engine)
        except SQLAlchemyError as exc:
            raise TrailError(_problem(exc), target=self.target) from exc

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
