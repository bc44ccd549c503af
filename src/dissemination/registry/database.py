"""The registry's database adapter: tables, engines, transactions, error translation.

SQLAlchemy 2 Core, one schema for SQLite and PostgreSQL. The embedded default
is a SQLite file in WAL mode (readers never wait for the writer); a
`postgresql+psycopg://` URL makes a registry shared by an organisation.

Exactly one owner per subject is a primary key (`claims.digest`), and every
write is one transaction that inserts with `ON CONFLICT DO NOTHING` and reads
what won: no lock is held in Python. On SQLite a write transaction begins
`IMMEDIATE` (it takes the write lock at once, so two writers never deadlock
upgrading a read lock); on PostgreSQL rows are touched in digest order, and a
deadlock or serialisation failure is retried.

Every SQLAlchemy or driver error becomes a `RegistryError` here.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    exc,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry

from dissemination.errors import RegistryError, UnavailableError

__all__ = [
    "SCHEMA_VERSION",
    "URL_ENV",
    "Conflict",
    "Tables",
    "default_url",
    "display_url",
    "insert_ignore",
    "lock_subjects",
    "make_tables",
    "open_engine",
    "run",
    "translate",
]

SCHEMA_VERSION: Final = 2
"""The version of the tables below, recorded in the `meta` table for migrations.

2: `events.expires` (the claim's expiry after a claim, renewal or transfer), so
replaying a subject's history gives its claim exactly."""

URL_ENV: Final = "DISSEMINATION_REGISTRY_URL"
"""Environment variable naming the registry database (overrides the default file)."""

_RETRIES: Final = 8
_RETRY_SQLSTATES: Final = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_GONE_SQLSTATES: Final = frozenset({"57P01", "57P02", "57P03"})  # terminated, crash, starting
_CONNECTION_RETRIES: Final = 5  # back-off 0.1, 0.2, 0.4, 0.8 s (x1-2): gives up after ~2-3 s
_SQLITE_BUSY_MS: Final = 10_000
_NO_BARGE_S: Final = 0.002  # see `_WriterQueue.turn`
_SQLITE_SYNCHRONOUS = "FULL"  # benchmarks/registry_load.py --synchronous NORMAL measures the cost
_ID = 128
_NAME = 200
_DIGEST = 64

T = TypeVar("T")


class Conflict(Exception):  # noqa: N818 (a signal between the store and `run`, never raised out)
    """A compare-and-set changed no row: another writer got there first; run the work again.

    Raised inside a transaction's work when a guarded `UPDATE`/`DELETE` reports
    a row count other than the one expected. `run` rolls back and retries
    (bounded); if the conflict persists it becomes a `RegistryError`.
    """


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A time stored in UTC and read back with its zone (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Store in UTC; a time without a zone is a programming error."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a registry time must carry a zone")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Read as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Tables:
    """The registry's tables (one set per table prefix).

    Attributes:
        metadata: the SQLAlchemy metadata holding them.
        meta: `name -> value`: the schema version and the key chain.
        claims: one row per owned subject: the owner, since, expiry (primary key: the digest).
        links: one row per (subject, item): which items concern which subjects.
        items: one row per registered item: its label (the newest version seen),
            never its content.
        events: the ownership history: who, when, what and why.
        prefix: the prefix of every table name.
    """

    metadata: MetaData
    meta: Table
    claims: Table
    links: Table
    items: Table
    events: Table
    prefix: str = "registry_"


def make_tables(prefix: str = "registry_") -> Tables:
    """Describe the registry's tables, each name starting with `prefix`.

    Args:
        prefix: the table name prefix (lets several registries share a database).

    Returns:
        The tables.
    """
    metadata = MetaData()
    meta = Table(
        f"{prefix}meta",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    claims = Table(
        f"{prefix}claims",
        metadata,
        Column("digest", String(_DIGEST), primary_key=True),
        Column("key_id", String(64), nullable=False),
        Column("owner_organisation", String(_NAME), nullable=False),
        Column("owner_unit", String(_NAME), nullable=False),
        Column("owner_contact", String(_NAME), nullable=False),
        Column("item_id", String(_ID), nullable=False),
        Column("since", UTCDateTime, nullable=False),
        Column("expires", UTCDateTime, nullable=True),
    )
    links = Table(
        f"{prefix}links",
        metadata,
        Column("digest", String(_DIGEST), primary_key=True),
        Column("item_id", String(_ID), primary_key=True),
        Column("key_id", String(64), nullable=False),
        Column("positions", String(_NAME), nullable=False),
        Column("linked", UTCDateTime, nullable=False),
        Index(f"{prefix}links_item", "item_id"),
    )
    items = Table(
        f"{prefix}items",
        metadata,
        Column("item_id", String(_ID), primary_key=True),
        Column("label", Text, nullable=False),
        Column("label_verified", Integer, nullable=False),
        Column("registered", UTCDateTime, nullable=False),
        Column("updated", UTCDateTime, nullable=False),
        Column("version", Integer, nullable=False, server_default="1"),
    )
    events = Table(
        f"{prefix}events",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("digest", String(_DIGEST), nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Column("action", String(16), nullable=False),
        Column("actor", String(_NAME), nullable=False),
        Column("reason", Text, nullable=True),
        Column("item_id", String(_ID), nullable=True),
        Column("owner_organisation", String(_NAME), nullable=True),
        Column("owner_unit", String(_NAME), nullable=True),
        Column("owner_contact", String(_NAME), nullable=True),
        Column("expires", UTCDateTime, nullable=True),
        Index(f"{prefix}events_digest", "digest", "id"),
    )
    # Alembic's version table (`schema.upgrade` writes it); here so `drop_all` drops it too.
    Table(f"{prefix}alembic_version", metadata, Column("version_num", String(32), primary_key=True))
    return Tables(metadata, meta, claims, links, items, events, prefix)


def default_url(environ: dict[str, str] | None = None) -> str:
    """The registry used when no `--db` is given.

    `$DISSEMINATION_REGISTRY_URL` if set, else the SQLite file
    `$XDG_DATA_HOME/dissemination/registry.sqlite` (by default
    `~/.local/share/dissemination/registry.sqlite`).

    Args:
        environ: the environment to read (the process's when None).

    Returns:
        A database URL.
    """
    environ = dict(os.environ) if environ is None else environ
    if environ.get(URL_ENV):
        return environ[URL_ENV]
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(data_home) / 'dissemination' / 'registry.sqlite'}"


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages.

    Args:
        url: a database URL.

    Returns:
        The URL to show.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparsable url>"


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's `begin` event issue BEGIN itself (pysqlite's own
    # transaction handling would defer it and upgrade locks late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        # A commit is on disk before it is confirmed (WAL with FULL syncs the log at
        # every commit; NORMAL could lose the last commits on power loss). WAL mode
        # itself is set once, by `upgrade` (it is stored in the file), so opening
        # writes nothing and works on a read-only file.
        cursor.execute(f"PRAGMA synchronous = {_SQLITE_SYNCHRONOUS}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = "DEFERRED" if connection.get_execution_options().get("registry_read") else "IMMEDIATE"
    connection.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_file(path: Path, shown: str, *, create: bool) -> None:
    """Check (or, for `upgrade`, create 0600) the SQLite file of a registry."""
    if not path.parent.is_dir():
        raise RegistryError("the folder of the database file does not exist", target=shown)
    if path.exists():
        return
    if not create:
        raise RegistryError(
            "no registry at this path: create it with `dissemination registry upgrade`",
            target=shown,
        )
    try:  # created here, owner-only, before SQLite opens it (it would make it 0644)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # another process created it first
    except OSError as error:
        raise RegistryError(
            f"cannot create the database file ({error.strerror})", target=shown
        ) from error


def open_engine(url: str, *, create: bool = False, read_only: bool = False) -> Engine:
    """Create the engine for a registry URL (SQLite file or PostgreSQL).

    Opening writes nothing. For a SQLite file, its folder must exist and so
    must the file, unless `create` (for `upgrade`), which creates it with
    mode 0600; write transactions begin `IMMEDIATE`; every connection syncs
    each commit to disk (`synchronous = FULL`). `read_only` opens a SQLite
    file read-only (`mode=ro`) and makes every PostgreSQL transaction
    `READ ONLY`. On PostgreSQL a pooled connection is tested before use
    (`pool_pre_ping`).

    Args:
        url: a SQLAlchemy URL (`sqlite:///path`, `postgresql+psycopg://...`).
        create: create a missing SQLite file (only `upgrade` does).
        read_only: open for reading only.

    Returns:
        The engine (nothing is connected yet).

    Raises:
        RegistryError: the URL is not a URL, names an unsupported database, or
            a SQLite file or its folder that does not exist.
    """
    shown = display_url(url)
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise RegistryError("not a database URL", target=shown) from error
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise RegistryError(
            f"unsupported database `{backend}` (use sqlite or postgresql)", target=shown
        )
    try:
        if backend == "sqlite":
            database = parsed.database
            if not database or database == ":memory:" or database.startswith("file:"):
                raise RegistryError(
                    "an in-memory SQLite registry cannot be shared; name a file", target=shown
                )
            path = Path(database).expanduser().absolute()
            _sqlite_file(path, shown, create=create)
            target = parsed.set(database=str(path))
            if read_only:
                target = parsed.set(
                    database=f"file:{path}", query={**parsed.query, "mode": "ro", "uri": "true"}
                )
            engine = create_engine(target, connect_args={"timeout": _SQLITE_BUSY_MS / 1000})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        connect_args: dict[str, Any] = {
            "connect_timeout": 10,
            "application_name": "dissemination-registry",
        }
        if read_only:
            connect_args["options"] = "-c default_transaction_read_only=on"
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except exc.NoSuchModuleError as error:
        raise RegistryError("no driver for this URL", target=shown) from error
    except exc.ArgumentError as error:
        raise RegistryError("not a database URL", target=shown) from error


def _first_line(error: BaseException) -> str:
    words = str(error).strip().splitlines()
    return (words[0] if words else type(error).__name__)[:200]


@contextmanager
def translate(target: str) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into `RegistryError` (`raise ... from`).

    The message names the kind of failure and, for a connection failure, the
    driver's first line; it never carries a statement or its parameters.

    Args:
        target: the registry URL, password hidden.

    Yields:
        Nothing; run the database work in the block.

    Raises:
        RegistryError: any database error raised in the block.
    """
    try:
        yield
    except exc.OperationalError as error:
        problem = _first_line(error.orig) if error.orig is not None else "operational error"
        raise RegistryError(
            f"cannot use the database ({problem.lower()})", target=target
        ) from error
    except exc.IntegrityError as error:
        raise RegistryError("a write broke a registry constraint", target=target) from error
    except exc.ProgrammingError as error:
        raise RegistryError(
            "the database refused a statement (a table of another version?)", target=target
        ) from error
    except exc.DBAPIError as error:
        raise RegistryError(
            f"database error ({type(error.orig).__name__})", target=target
        ) from error
    except exc.SQLAlchemyError as error:
        raise RegistryError(f"database error ({type(error).__name__})", target=target) from error


def _retryable(error: exc.DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in _RETRY_SQLSTATES


def _back_off(attempt: int, *, base: float = 0.01) -> None:
    time.sleep(min(base * 2 ** (attempt - 1), 2.0) * (1 + int.from_bytes(os.urandom(1)) / 255))


def _lost_connection(error: exc.DBAPIError) -> bool:
    """Whether the database went away (a restart, a failover, a killed backend)."""
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    if state.startswith("08") or state in _GONE_SQLSTATES:
        return True
    return state == "" and isinstance(error, exc.OperationalError) and _is_postgres(error)


def _is_postgres(error: exc.DBAPIError) -> bool:
    return type(error.orig).__module__.startswith("psycopg")


def _sqlite_busy(error: exc.DBAPIError) -> bool:
    return isinstance(error, exc.OperationalError) and "database is locked" in str(error.orig)


class _WriterQueue:
    """One SQLite writer at a time per database file, waiting in the kernel, not polling.

    SQLite's own busy handler sleeps between retries (up to 100 ms at a time),
    so under many writers a waiting writer keeps missing its turn: p99 was
    8.1 s at 64 writers, and one writer gave up after 30 s. Writers of this
    library first take an exclusive `flock` on `<database>-writers` (and a
    thread lock, as `flock` is per open file): the kernel wakes a waiter the
    moment the lock is released, so a wait is about the number of writers
    ahead times one transaction. SQLite's busy timeout stays as the bound
    against writers that do not queue (other tools).
    """

    def __init__(self) -> None:
        self._files: dict[str, tuple[int, threading.Lock]] = {}
        self._guard = threading.Lock()
        self._released = 0.0

    def _entry(self, path: str) -> tuple[int, threading.Lock]:
        with self._guard:
            if path not in self._files:
                descriptor = os.open(f"{path}-writers", os.O_CREAT | os.O_RDWR, 0o600)
                self._files[path] = (descriptor, threading.Lock())
            return self._files[path]

    @contextmanager
    def turn(self, path: str) -> Iterator[None]:
        """Hold the writers' lock of a database file for one transaction.

        Args:
            path: the SQLite file.

        Yields:
            Nothing; write in the block.
        """
        try:
            descriptor, lock = self._entry(path)
        except OSError:  # a folder we may not write: SQLite's busy timeout alone
            yield
            return
        with lock:
            # No barging: a process that has just written lets the writers the
            # kernel woke take their turn before it queues again.
            pause = self._released + _NO_BARGE_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                self._released = time.monotonic()


_WRITERS: Final = _WriterQueue()


def _attempt(engine: Engine, work: Callable[[Connection], T], *, write: bool) -> T:
    """One try of a transaction; a failure in `commit` is marked (the outcome is unknown)."""
    connection = engine.connect()
    try:
        if not write:
            # One snapshot for every statement of a read (PostgreSQL).
            isolation = (
                {"isolation_level": "REPEATABLE READ"}
                if connection.dialect.name == "postgresql"
                else {}
            )
            connection = connection.execution_options(registry_read=True, **isolation)
        transaction = connection.begin()
        result = work(connection)
        try:
            transaction.commit()
        except exc.DBAPIError as error:
            error.registry_commit = True  # type: ignore[attr-defined]
            raise
        return result
    finally:
        connection.close()


def run(
    engine: Engine,
    work: Callable[[Connection], T],
    *,
    target: str,
    write: bool = True,
    idempotent: bool = True,
) -> T:
    """Run `work` in one transaction: all of it commits, or none of it.

    Run again, a bounded number of times with a growing random back-off, when
    the database answers "try again": a PostgreSQL deadlock or serialisation
    failure, a compare-and-set that lost (`Conflict`), a SQLite database still
    locked after its busy timeout, or a lost connection (the pool then tests
    and replaces its connections). A connection lost during `commit` leaves the
    outcome unknown: the work is run again only when it is `idempotent` (a
    read, a registration); otherwise the error says to check the history.
    On SQLite, write transactions queue for the file's writers' lock first
    (`_WriterQueue`).

    Args:
        engine: the registry's engine.
        work: the transaction's body, given the connection.
        target: the registry URL, password hidden, for messages.
        write: False for a read-only transaction (SQLite begins it DEFERRED).
        idempotent: whether running the work twice is the same as once.

    Returns:
        What `work` returned.

    Raises:
        UnavailableError: the database stayed unreachable through every retry,
            or was lost while committing a change that is not safe to repeat.
        RegistryError: any other database error.
    """
    queue = engine.dialect.name == "sqlite" and write and engine.url.database
    attempt = 0
    while True:
        attempt += 1
        try:
            with translate(target):
                if queue:
                    with _WRITERS.turn(str(engine.url.database)):
                        return _attempt(engine, work, write=write)
                return _attempt(engine, work, write=write)
        except Conflict as error:
            if attempt < _RETRIES:
                _back_off(attempt)
                continue
            raise RegistryError(
                "a change kept meeting concurrent changes; try again", target=target
            ) from error
        except RegistryError as error:
            cause = error.__cause__
            if not isinstance(cause, exc.DBAPIError):
                raise
            if attempt < _RETRIES and (_retryable(cause) or _sqlite_busy(cause)):
                _back_off(attempt)
                continue
            if not _lost_connection(cause):
                raise
            if getattr(cause, "registry_commit", False) and not idempotent:
                raise UnavailableError(
                    f"registry {target}: the connection was lost while committing; the "
                    "change may or may not have been made: check the subject's history"
                ) from cause
            if attempt < _CONNECTION_RETRIES:
                _back_off(attempt, base=0.1)
                continue
            raise UnavailableError(
                f"registry {target}: the database is unavailable after "
                f"{_CONNECTION_RETRIES} attempts ({error.detail})"
            ) from cause


def insert_ignore(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert one row unless its primary key exists: `ON CONFLICT DO NOTHING`.

    Whether the row went in is read from `RETURNING`, not from a row count
    (drivers report batched row counts differently).

    Args:
        connection: the transaction's connection.
        table: the table.
        row: the row.

    Returns:
        True when the row was inserted, False when one with its key was there.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(row).on_conflict_do_nothing().returning(key)
    return connection.execute(statement).first() is not None


def advisory_lock(connection: Connection, name: str) -> None:
    """On PostgreSQL, take a transaction-scoped lock on `name` (first-use DDL).

    SQLite needs none: its write transactions are already serialised.

    Args:
        connection: the transaction's connection.
        name: what to lock (the table prefix).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def lock_subjects(connection: Connection, prefix: str, digests: Iterable[str]) -> None:
    """Serialise every writer of these subjects until the transaction ends.

    On PostgreSQL, a transaction-scoped advisory lock per subject, taken in
    digest order (one lock order for every writer, so no deadlock between
    them). It holds whether or not the subject has a claim row, so a release
    (which deletes the row) and a registration (which inserts one) of the same
    subject run one after the other, and a subject's history is written in
    the order its changes commit. SQLite needs none: a write transaction
    begins `IMMEDIATE` and holds the database's one write lock.

    Args:
        connection: the transaction's connection.
        prefix: the registry's table prefix (registries sharing a database do not collide).
        digests: the subjects' digests.
    """
    if connection.dialect.name != "postgresql":
        return
    keys = [f"{prefix}subject:{digest}" for digest in sorted(set(digests))]
    if not keys:
        return
    # One statement for all (a batch registration locks thousands): the array is
    # in digest order and is read, and locked, in that order.
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
            "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
        ),
        {"keys": keys},
    )
