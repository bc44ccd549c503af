"""The registry's rows on one connection: key chain, digests, claims, links, events.

What every registry operation shares (`ingest`, `lookup`, `lifecycle`,
`rekey`): a `Store` holds the engine, the tables and the blind-index keys, and
reads and writes the rows each operation is made of, always inside the one
transaction the operation runs in (`Store.run`, `database.run`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from dissemination.errors import RegistryError
from dissemination.identifiers import NormalisedIdentifier, normalise
from dissemination.models import Owner, PassportSubject, PersonSubject, ValueSubject
from dissemination.registry.answers import Claim
from dissemination.registry.database import Tables, lock_subjects, run
from dissemination.registry.keys import KeyRing, chain_matches

__all__ = [
    "CLOCK_TOLERANCE",
    "ClockBehindError",
    "Store",
    "Subject",
    "aware",
    "claim_of",
    "identifier_of",
]

CLOCK_TOLERANCE: Final = dt.timedelta(seconds=2)
"""How far apart two writers' clocks may be read and both be recorded (see `Store.story_time`)."""


class ClockBehindError(RegistryError):
    """A change whose `now` is earlier than its subject's last recorded change (exit 2).

    Recording it would run the subject's history backwards, and a renewal or
    transfer computed from it would end the claim early.
    """


def _seconds(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds():.0f} s" if delta < dt.timedelta(hours=1) else "over an hour"


def _as_utc(moment: dt.datetime | str) -> dt.datetime:
    # `max()` loses the column type on SQLite: the text comes back as stored.
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


Subject = ValueSubject | PersonSubject | PassportSubject | NormalisedIdentifier
"""What the registry can be asked about: an item's subject or a normalised identifier."""

T = TypeVar("T")


def aware(now: dt.datetime) -> dt.datetime:
    """`now` in UTC; a time without a zone is refused.

    Args:
        now: a time.

    Returns:
        The same moment in UTC.

    Raises:
        ValueError: `now` carries no time zone.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must carry a time zone")
    return now.astimezone(dt.UTC)


def identifier_of(subject: Subject) -> NormalisedIdentifier:
    """The normalised identifier of a subject (an identifier is kept as it is).

    Args:
        subject: a subject, or an identifier already normalised.

    Returns:
        The identifier.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
    """
    return subject if isinstance(subject, NormalisedIdentifier) else normalise(subject)


def claim_of(row: Mapping[Any, Any]) -> Claim:
    """A claim from a `claims` row (or a row about to be inserted).

    Args:
        row: the row's columns by name.

    Returns:
        The claim.
    """
    return Claim(
        owner=Owner(
            organisation=row["owner_organisation"],
            unit=row["owner_unit"],
            contact=row["owner_contact"],
        ),
        since=row["since"],
        expires=row["expires"],
        item_id=row["item_id"],
    )


@dataclass(frozen=True, slots=True)
class Store:
    """The registry's database, tables and keys.

    Attributes:
        engine: the SQLAlchemy engine.
        tables: the registry's tables.
        keys: the blind-index keys this process holds.
        url: the database URL, password hidden (for messages).
        clock_tolerance: how far behind a subject's last event a `now` may be
            and still be recorded (at that event's time) rather than refused.
        read_only: the registry was opened read-only: a write transaction is refused.
    """

    engine: Engine
    tables: Tables
    keys: KeyRing
    url: str
    clock_tolerance: dt.timedelta = CLOCK_TOLERANCE
    read_only: bool = False

    def run(
        self, work: Callable[[Connection], T], *, write: bool = True, idempotent: bool = True
    ) -> T:
        """Run `work` in one transaction, errors translated (see `database.run`).

        Args:
            work: what to do on the connection.
            write: whether the transaction writes.
            idempotent: whether running it twice is the same as once (it may be
                run again if the connection is lost while committing).

        Returns:
            What `work` returns.

        Raises:
            UnavailableError: the database stayed away (see `database.run`).
            RegistryError: a database error, or a write on a registry opened read-only.
        """
        if write and self.read_only:
            raise RegistryError(
                "the registry was opened read-only (`--read-only`): this would write",
                target=self.url,
            )
        return run(self.engine, work, target=self.url, write=write, idempotent=idempotent)

    # -- the key chain -----------------------------------------------------------

    def recorded_keys(self, connection: Connection, *, exclusive: bool = False) -> list[Any]:
        """The key chain the registry records (id, check value, when added), oldest first.

        Args:
            connection: the transaction.
            exclusive: lock the chain for writing (a re-key) rather than sharing it.

        Returns:
            The chain's entries.

        Raises:
            RegistryError: the registry records no keys.
        """
        meta = self.tables.meta
        query = select(meta.c.value).where(meta.c.name == "keys")
        # Every write transaction reads the key chain with a row lock (PostgreSQL;
        # SQLite serialises writers anyway), so a re-key never interleaves with a
        # write. A read transaction takes no lock: it reads one snapshot
        # (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite), so the chain
        # and the digests it reads always agree, and it works on a read-only database.
        if exclusive or not connection.get_execution_options().get("registry_read"):
            query = query.with_for_update(read=not exclusive)
        value = connection.execute(query).scalar_one_or_none()
        if value is None:
            raise RegistryError("the registry records no keys", target=self.url)
        recorded: list[Any] = json.loads(value)
        return recorded

    def depth(self, connection: Connection) -> int:
        """How many of this process's keys the registry's digests are wrapped in.

        Args:
            connection: the transaction.

        Returns:
            The depth of the registry's key chain.

        Raises:
            RegistryKeyError: the registry was keyed with keys this process lacks.
        """
        recorded = self.recorded_keys(connection)
        return chain_matches(self.keys, [(entry["id"], entry["check"]) for entry in recorded])

    def digest(self, identifier: NormalisedIdentifier, depth: int) -> str:
        """The blind-index digest of an identifier under the first `depth` keys.

        Args:
            identifier: the identifier.
            depth: the depth of the registry's key chain.

        Returns:
            The digest.
        """
        return self.keys.digest(identifier, depth=depth)

    def digest_now(self, connection: Connection, identifier: NormalisedIdentifier) -> str:
        """The digest of an identifier under the registry's current key chain.

        Args:
            connection: the transaction.
            identifier: the identifier.

        Returns:
            The digest.

        Raises:
            RegistryKeyError: the registry was keyed with keys this process lacks.
        """
        return self.digest(identifier, self.depth(connection))

    def key_id(self, depth: int) -> str:
        """The id of the newest key of a chain `depth` keys long.

        Args:
            depth: the depth of the registry's key chain.

        Returns:
            The key id.
        """
        return self.keys.ids[depth - 1]

    # -- rows --------------------------------------------------------------------

    def claim(self, connection: Connection, digest: str) -> Claim | None:
        """The claim on a subject, lapsed or not.

        Args:
            connection: the transaction.
            digest: the subject's digest.

        Returns:
            The claim, or None when nobody owns the subject.
        """
        claims = self.tables.claims
        row = connection.execute(select(claims).where(claims.c.digest == digest)).first()
        return None if row is None else claim_of(row._mapping)

    def live_claim(self, connection: Connection, digest: str, now: dt.datetime) -> Claim:
        """The claim on a subject, which must hold at `now`.

        Args:
            connection: the transaction.
            digest: the subject's digest.
            now: the time, with a zone.

        Returns:
            The claim.

        Raises:
            RegistryError: the subject has no live owner.
        """
        claim = self.claim(connection, digest)
        if claim is None or not claim.live(now):
            raise RegistryError("the subject has no live owner", target=self.url)
        return claim

    def linked_ids(self, connection: Connection, digest: str) -> tuple[str, ...]:
        """The ids of the items linked to a subject, sorted.

        Args:
            connection: the transaction.
            digest: the subject's digest.

        Returns:
            The item ids.
        """
        links = self.tables.links
        query = select(links.c.item_id).where(links.c.digest == digest).order_by(links.c.item_id)
        return tuple(connection.execute(query).scalars())

    def event(
        self,
        connection: Connection,
        digest: str,
        *,
        at: dt.datetime,
        action: str,
        actor: str,
        reason: str | None = None,
        item_id: str | None = None,
        owner: Owner | None = None,
        expires: dt.datetime | None = None,
    ) -> None:
        """Add a row to a subject's history: who, when, what, why.

        Args:
            connection: the transaction.
            digest: the subject's digest.
            at: when.
            action: what (see `answers.Event`).
            actor: who.
            reason: why, if given.
            item_id: the item concerned, if any.
            owner: the owner after the change, if it changed.
            expires: the claim's expiry after a claim, renewal or transfer.
        """
        connection.execute(
            self.tables.events.insert().values(
                digest=digest,
                at=at,
                action=action,
                actor=actor,
                reason=reason,
                item_id=item_id,
                owner_organisation=owner.organisation if owner else None,
                owner_unit=owner.unit if owner else None,
                owner_contact=owner.contact if owner else None,
                expires=expires,
            )
        )

    # -- one subject's story -------------------------------------------------------

    def lock(self, connection: Connection, digests: Iterable[str]) -> None:
        """Hold these subjects against every other writer until the transaction ends.

        See `database.lock_subjects`. Every write to a subject's claim or
        history happens after this, so each subject's changes are serial.

        Args:
            connection: the transaction.
            digests: the subjects' digests.
        """
        lock_subjects(connection, self.tables.prefix, digests)

    def last_event(self, connection: Connection, digests: Iterable[str]) -> dt.datetime | None:
        """The time of the latest event in these subjects' histories.

        Args:
            connection: the transaction.
            digests: the subjects' digests.

        Returns:
            The latest time, or None when none has a history.
        """
        events = self.tables.events
        wanted = sorted(set(digests))
        if not wanted:
            return None
        latest = connection.execute(
            select(func.max(events.c.at)).where(events.c.digest.in_(wanted))
        ).scalar_one_or_none()
        return None if latest is None else aware(_as_utc(latest))

    def story_time(
        self, connection: Connection, digests: Iterable[str], now: dt.datetime
    ) -> dt.datetime:
        """The time to record a change at: `now`, unless that would run a story backwards.

        Time never runs backwards in a subject's history (DESIGN §5). A `now`
        at or after every subject's last event is used as it is. A `now`
        earlier by at most `clock_tolerance` (two writers read their clocks
        a moment apart, and the later one committed first) is recorded at the
        last event's time instead. A `now` earlier than that is refused: the
        caller's clock is behind, and acting on it would end or shorten claims.

        Args:
            connection: the transaction (the subjects locked, see `lock`).
            digests: the subjects the change touches.
            now: the caller's time, in UTC.

        Returns:
            The time to record.

        Raises:
            ClockBehindError: `now` is earlier than a subject's last event by
                more than the tolerance.
        """
        latest = self.last_event(connection, digests)
        if latest is None or now >= latest:
            return now
        if latest - now <= self.clock_tolerance:
            return latest
        raise ClockBehindError(
            "`now` is earlier than the subject's last recorded change "
            f"(by {_seconds(latest - now)}); time never runs backwards in a history: "
            "check the clock or `--now`",
            target=self.url,
        )
