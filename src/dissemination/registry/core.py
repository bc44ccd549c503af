"""The ownership registry: one owner per subject, deconfliction lookups that leak nothing.

    >>> registry = Registry("sqlite:///registry.sqlite", keys=load_keys())  # doctest: +SKIP
    >>> registry.register(item, now=now)  # doctest: +SKIP
    >>> registry.lookup(subject, reader, now=now).to_json()  # doctest: +SKIP

Each method is one database transaction (`database.run`). What is stored and
why: see `labels` (the item label, no content), `keys` (the blind index) and
`answers` (what a reader learns). `docs/registry.md` tells the workflow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection

from dissemination.errors import RegistryError, RegistryKeyError
from dissemination.identifiers import NormalisedIdentifier, normalise, normalise_subjects
from dissemination.models import (
    Item,
    Owner,
    PassportSubject,
    PersonSubject,
    Principal,
    ValueSubject,
)
from dissemination.policy import Policy, default_policy
from dissemination.registry.answers import (
    Claim,
    Event,
    History,
    LookupAnswer,
    Registration,
    StoredLink,
    answer,
)
from dissemination.registry.database import (
    SCHEMA_VERSION,
    Tables,
    advisory_lock,
    default_url,
    display_url,
    insert_ignore,
    make_tables,
    open_engine,
    run,
)
from dissemination.registry.keys import KeyRing, chain_matches, load_keys
from dissemination.registry.labels import label_json, parse_label

__all__ = ["DEFAULT_CLAIM_PERIOD", "Registry"]

DEFAULT_CLAIM_PERIOD: Final = dt.timedelta(days=180)
"""How long a claim holds unless renewed (or transferred, which renews it)."""

Subject = ValueSubject | PersonSubject | PassportSubject | NormalisedIdentifier
"""What the registry can be asked about: an item's subject or a normalised identifier."""

_INGEST: Final = "ingest"


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must carry a time zone")
    return now.astimezone(dt.UTC)


def _identifier(subject: Subject) -> NormalisedIdentifier:
    return subject if isinstance(subject, NormalisedIdentifier) else normalise(subject)


def _positions(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


class Registry:
    """The ownership registry on one database.

    Tables are created on first use, with the schema version and the ids and
    check values of the blind-index keys recorded; a registry opened with
    other keys is refused (`RegistryKeyError`) before anything is read.

    Attributes:
        url: the database URL, password hidden.
        claim_period: how long a claim holds unless renewed (None: for ever).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        keys: KeyRing | None = None,
        key_file: str | Path | None = None,
        claim_period: dt.timedelta | None = DEFAULT_CLAIM_PERIOD,
        table_prefix: str = "registry_",
    ) -> None:
        """Open (and on first use create) the registry.

        Args:
            url: a SQLAlchemy URL; the default file (`database.default_url`) when None.
            keys: the blind-index keys; read by `keys.load_keys(key_file)` when None.
            key_file: a key file, when `keys` is None.
            claim_period: how long a claim holds unless renewed (None: for ever).
            table_prefix: the prefix of the table names.

        Raises:
            RegistryError: the database cannot be reached or holds another schema version.
            RegistryKeyError: no key, a malformed key, or keys other than the registry's.
        """
        url = url if url is not None else default_url()
        self.url = display_url(url)
        self.claim_period = claim_period
        self._keys = keys if keys is not None else load_keys(key_file)
        self._tables: Tables = make_tables(table_prefix)
        self._prefix = table_prefix
        self._engine = open_engine(url)
        try:
            run(self._engine, self._initialise, target=self.url)
        except BaseException:
            self._engine.dispose()
            raise

    # -- life of the object ------------------------------------------------------

    def close(self) -> None:
        """Close the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Registry:
        """Use the registry in a `with` block; it is closed at the end.

        Returns:
            The registry.
        """
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        self.close()

    def drop(self) -> None:
        """Drop the registry's tables and everything in them (tests, decommissioning).

        Raises:
            RegistryError: a database error.
        """

        def work(connection: Connection) -> None:
            advisory_lock(connection, self._prefix)
            self._tables.metadata.drop_all(connection)

        run(self._engine, work, target=self.url)

    # -- keys and schema ---------------------------------------------------------------

    def _initialise(self, connection: Connection) -> None:
        advisory_lock(connection, self._prefix)
        self._tables.metadata.create_all(connection)
        meta = self._tables.meta
        version = connection.execute(
            select(meta.c.value).where(meta.c.name == "schema_version")
        ).scalar_one_or_none()
        if version is None:
            now = dt.datetime.now(dt.UTC).isoformat()
            chain = [{"id": key.id, "check": key.check, "added": now} for key in self._keys]
            connection.execute(
                meta.insert(),
                [
                    {"name": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"name": "keys", "value": json.dumps(chain)},
                ],
            )
            return
        if version != str(SCHEMA_VERSION):
            raise RegistryError(
                f"the registry has schema version {version}; this release reads {SCHEMA_VERSION}",
                target=self.url,
            )
        self._depth(connection)

    def _recorded_keys(self, connection: Connection, *, exclusive: bool = False) -> list[Any]:
        meta = self._tables.meta
        query = select(meta.c.value).where(meta.c.name == "keys")
        # Every transaction reads the key chain with a row lock (PostgreSQL; SQLite
        # serialises writers anyway), so a re-key never interleaves with a write.
        query = query.with_for_update(read=not exclusive)
        value = connection.execute(query).scalar_one_or_none()
        if value is None:
            raise RegistryError("the registry records no keys", target=self.url)
        recorded: list[Any] = json.loads(value)
        return recorded

    def _depth(self, connection: Connection, *, exclusive: bool = False) -> int:
        recorded = self._recorded_keys(connection, exclusive=exclusive)
        return chain_matches(self._keys, [(entry["id"], entry["check"]) for entry in recorded])

    def _digest(self, identifier: NormalisedIdentifier, depth: int) -> str:
        return self._keys.digest(identifier, depth=depth)

    def _key_id(self, depth: int) -> str:
        return self._keys.ids[depth - 1]

    # -- reading rows --------------------------------------------------------------

    def _claim(self, connection: Connection, digest: str) -> Claim | None:
        claims = self._tables.claims
        row = connection.execute(select(claims).where(claims.c.digest == digest)).first()
        return None if row is None else self._claim_of(row._mapping)

    @staticmethod
    def _claim_of(row: Mapping[Any, Any]) -> Claim:
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

    def _linked_ids(self, connection: Connection, digest: str) -> tuple[str, ...]:
        links = self._tables.links
        query = select(links.c.item_id).where(links.c.digest == digest).order_by(links.c.item_id)
        return tuple(connection.execute(query).scalars())

    def _event(
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
    ) -> None:
        connection.execute(
            self._tables.events.insert().values(
                digest=digest,
                at=at,
                action=action,
                actor=actor,
                reason=reason,
                item_id=item_id,
                owner_organisation=owner.organisation if owner else None,
                owner_unit=owner.unit if owner else None,
                owner_contact=owner.contact if owner else None,
            )
        )

    def _expiry(self, now: dt.datetime) -> dt.datetime | None:
        return None if self.claim_period is None else now + self.claim_period

    # -- register ------------------------------------------------------------------------

    def register(
        self,
        item: Item,
        *,
        now: dt.datetime,
        actor: str = _INGEST,
        label_verified: bool = False,
    ) -> tuple[Registration, ...]:
        """Register an item on ingest: link it to each of its subjects, claim the unowned.

        Every subject is normalised first; one that cannot be right fails the
        whole item and nothing is written. Then, in one transaction, the item's
        label is stored, each subject is linked to the item, and each subject
        without a live owner is claimed for the item's owner. Registering the
        same item again changes nothing; registering a new version updates its
        label and links. However many processes register the same subject at
        once, exactly one owns it and every link is kept (a primary key, not a
        lock in Python).

        Args:
            item: the item.
            now: the time of registration, with a zone.
            actor: who registers (recorded in the history).
            label_verified: whether the item's label signature was verified
                (against the full item) before registering; a profile that
                requires signed labels shows unverified items to nobody.

        Returns:
            One registration per subject, in item order.

        Raises:
            IdentifierError: a subject identifier cannot be right; names the subject.
            RegistryError: a database error (nothing is written).
            RegistryKeyError: the registry was re-keyed with keys this process lacks.
        """
        now = _aware(now)
        identifiers = normalise_subjects(item)
        label = label_json(item)

        def work(connection: Connection) -> tuple[Registration, ...]:
            depth = self._depth(connection)
            key_id = self._key_id(depth)
            groups: dict[str, list[int]] = {}
            for index, identifier in enumerate(identifiers):
                groups.setdefault(self._digest(identifier, depth), []).append(index)
            self._store_label(connection, item, label, label_verified, now)
            self._unlink_stale(connection, item.id, set(groups), now, actor)
            outcomes: dict[str, tuple[str, Claim, tuple[str, ...]]] = {}
            for digest in sorted(groups):  # one lock order for every writer (PostgreSQL)
                self._link(
                    connection, digest, item.id, groups[digest], now=now, actor=actor, key_id=key_id
                )
                outcome, claim = self._claim_for(
                    connection, digest, item, now=now, actor=actor, key_id=key_id
                )
                outcomes[digest] = (outcome, claim, self._linked_ids(connection, digest))
            results = []
            for digest, positions in groups.items():
                outcome, claim, linked = outcomes[digest]
                for index in positions:
                    results.append(
                        (
                            index,
                            Registration(
                                subject=item.subject_key(index),
                                type=identifiers[index].type,
                                outcome=outcome,
                                claim=claim,
                                items=linked,
                            ),
                        )
                    )
            return tuple(registration for _, registration in sorted(results))

        return run(self._engine, work, target=self.url)

    def _store_label(
        self, connection: Connection, item: Item, label: str, verified: bool, now: dt.datetime
    ) -> None:
        items = self._tables.items
        row = {
            "item_id": item.id,
            "label": label,
            "label_verified": int(verified),
            "registered": now,
            "updated": now,
        }
        if insert_ignore(connection, items, row):
            return
        connection.execute(
            update(items)
            .where(
                items.c.item_id == item.id,
                (items.c.label != label) | (items.c.label_verified != int(verified)),
            )
            .values(label=label, label_verified=int(verified), updated=now)
        )

    def _unlink_stale(
        self, connection: Connection, item_id: str, digests: set[str], now: dt.datetime, actor: str
    ) -> None:
        links = self._tables.links
        current = connection.execute(
            select(links.c.digest).where(links.c.item_id == item_id).order_by(links.c.digest)
        ).scalars()
        for digest in [digest for digest in current if digest not in digests]:
            connection.execute(
                delete(links).where(links.c.digest == digest, links.c.item_id == item_id)
            )
            self._event(connection, digest, at=now, action="unlink", actor=actor, item_id=item_id)

    def _link(
        self,
        connection: Connection,
        digest: str,
        item_id: str,
        positions: Sequence[int],
        *,
        now: dt.datetime,
        actor: str,
        key_id: str,
    ) -> None:
        links = self._tables.links
        text = ",".join(str(position) for position in positions)
        row = {
            "digest": digest,
            "item_id": item_id,
            "key_id": key_id,
            "positions": text,
            "linked": now,
        }
        if insert_ignore(connection, links, row):
            self._event(connection, digest, at=now, action="link", actor=actor, item_id=item_id)
            return
        connection.execute(
            update(links)
            .where(links.c.digest == digest, links.c.item_id == item_id, links.c.positions != text)
            .values(positions=text)
        )

    def _claim_for(
        self,
        connection: Connection,
        digest: str,
        item: Item,
        *,
        now: dt.datetime,
        actor: str,
        key_id: str,
    ) -> tuple[str, Claim]:
        claims = self._tables.claims
        owner = item.owner
        row = {
            "digest": digest,
            "key_id": key_id,
            "owner_organisation": owner.organisation,
            "owner_unit": owner.unit,
            "owner_contact": owner.contact,
            "item_id": item.id,
            "since": now,
            "expires": self._expiry(now),
        }
        if insert_ignore(connection, claims, row):
            self._event(
                connection,
                digest,
                at=now,
                action="claim",
                actor=actor,
                item_id=item.id,
                owner=owner,
            )
            return "new", self._claim_of(row)
        existing = self._claim(connection, digest)
        if existing is None:  # released between our insert and read: impossible in one transaction
            raise RegistryError("a claim vanished inside a transaction", target=self.url)
        if existing.live(now):
            return "already_owned", existing
        # A lapsed claim: take it over, only if nobody else has (compare and set).
        taken = connection.execute(
            update(claims)
            .where(claims.c.digest == digest, claims.c.expires == existing.expires)
            .values({key: value for key, value in row.items() if key != "digest"})
        ).rowcount
        if taken != 1:
            current = self._claim(connection, digest)
            if current is None:
                raise RegistryError("a claim vanished inside a transaction", target=self.url)
            return "already_owned", current
        self._event(
            connection,
            digest,
            at=now,
            action="lapse",
            actor=actor,
            item_id=existing.item_id,
            reason=f"claim expired at {existing.expires.isoformat() if existing.expires else ''}",
        )
        self._event(
            connection, digest, at=now, action="claim", actor=actor, item_id=item.id, owner=owner
        )
        return "new", self._claim_of(row)

    # -- lookup ---------------------------------------------------------------------------

    def lookup(
        self,
        subject: Subject,
        reader: Principal,
        *,
        now: dt.datetime,
        policy: Policy | None = None,
    ) -> LookupAnswer:
        """Who owns intelligence on `subject`, as far as `reader` may know.

        Each linked item's stored label goes through `decide` for this reader;
        items at `none` (and items whose subject entry the reader may not see)
        contribute nothing, so a subject known only through such items gets
        the same answer as one never registered.

        Args:
            subject: a subject, or an identifier from `identifiers.normalise_value`.
            reader: who asks.
            now: the time of the lookup, with a zone.
            policy: the profile to decide by (the embedded default when None).

        Returns:
            The answer.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: a database error.
            RegistryKeyError: the registry was re-keyed with keys this process lacks.
        """
        now = _aware(now)
        identifier = _identifier(subject)
        policy = policy if policy is not None else default_policy()
        links, items = self._tables.links, self._tables.items

        def work(connection: Connection) -> tuple[Claim | None, list[Any]]:
            digest = self._digest(identifier, self._depth(connection))
            claim = self._claim(connection, digest)
            rows = connection.execute(
                select(
                    links.c.item_id,
                    links.c.positions,
                    links.c.linked,
                    items.c.label,
                    items.c.label_verified,
                )
                .join(items, items.c.item_id == links.c.item_id)
                .where(links.c.digest == digest)
            ).all()
            return claim, list(rows)

        claim, rows = run(self._engine, work, target=self.url, write=False)
        stored = [
            StoredLink(
                item_id=row.item_id,
                label=parse_label(row.label, policy=policy),
                positions=_positions(row.positions),
                linked=row.linked,
                label_verified=bool(row.label_verified),
            )
            for row in rows
        ]
        return answer(identifier, claim, stored, reader, now=now, policy=policy)

    # -- life cycle ------------------------------------------------------------------------------

    def _live_claim(self, connection: Connection, digest: str, now: dt.datetime) -> Claim:
        claim = self._claim(connection, digest)
        if claim is None or not claim.live(now):
            raise RegistryError("the subject has no live owner", target=self.url)
        return claim

    def transfer(
        self,
        subject: Subject,
        to: Owner,
        *,
        now: dt.datetime,
        actor: str,
        reason: str,
    ) -> Claim:
        """Hand a subject to another owner (a law-enforcement agency, say); history stays.

        The new owner's claim runs from `now` for a full claim period.

        Args:
            subject: the subject.
            to: the new owner.
            now: when, with a zone.
            actor: who hands it over.
            reason: why.

        Returns:
            The new claim.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: the subject has no live owner, or a database error.
        """
        now = _aware(now)
        identifier = _identifier(subject)
        claims = self._tables.claims

        def work(connection: Connection) -> Claim:
            digest = self._digest(identifier, self._depth(connection))
            current = self._live_claim(connection, digest, now)
            connection.execute(
                update(claims)
                .where(claims.c.digest == digest)
                .values(
                    owner_organisation=to.organisation,
                    owner_unit=to.unit,
                    owner_contact=to.contact,
                    since=now,
                    expires=self._expiry(now),
                )
            )
            self._event(
                connection,
                digest,
                at=now,
                action="transfer",
                actor=actor,
                reason=reason,
                item_id=current.item_id,
                owner=to,
            )
            return Claim(to, now, self._expiry(now), current.item_id)

        return run(self._engine, work, target=self.url)

    def renew(
        self, subject: Subject, *, now: dt.datetime, actor: str, reason: str | None = None
    ) -> Claim:
        """Extend a live claim by a full claim period from `now`.

        Args:
            subject: the subject.
            now: when, with a zone.
            actor: who renews.
            reason: why, if given.

        Returns:
            The renewed claim.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: the subject has no live owner, or a database error.
        """
        now = _aware(now)
        identifier = _identifier(subject)
        claims = self._tables.claims

        def work(connection: Connection) -> Claim:
            digest = self._digest(identifier, self._depth(connection))
            current = self._live_claim(connection, digest, now)
            expires = self._expiry(now)
            connection.execute(
                update(claims).where(claims.c.digest == digest).values(expires=expires)
            )
            self._event(
                connection,
                digest,
                at=now,
                action="renew",
                actor=actor,
                reason=reason,
                item_id=current.item_id,
                owner=current.owner,
            )
            return Claim(current.owner, current.since, expires, current.item_id)

        return run(self._engine, work, target=self.url)

    def release(self, subject: Subject, *, now: dt.datetime, actor: str, reason: str) -> None:
        """Give up ownership of a subject: it is unowned until an item claims it anew.

        The links to items stay; the history records the release.

        Args:
            subject: the subject.
            now: when, with a zone.
            actor: who releases.
            reason: why.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: the subject has no live owner, or a database error.
        """
        now = _aware(now)
        identifier = _identifier(subject)
        claims = self._tables.claims

        def work(connection: Connection) -> None:
            digest = self._digest(identifier, self._depth(connection))
            current = self._live_claim(connection, digest, now)
            connection.execute(delete(claims).where(claims.c.digest == digest))
            self._event(
                connection,
                digest,
                at=now,
                action="release",
                actor=actor,
                reason=reason,
                item_id=current.item_id,
            )

        run(self._engine, work, target=self.url)

    def history(self, subject: Subject) -> History:
        """Every change to a subject's ownership and links, for its owner or an auditor.

        Not filtered by any policy: do not show it to readers; use `lookup`.

        Args:
            subject: the subject.

        Returns:
            The claim (lapsed or not), the linked items and the events, oldest first.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: a database error.
        """
        identifier = _identifier(subject)
        events = self._tables.events

        def work(connection: Connection) -> History:
            digest = self._digest(identifier, self._depth(connection))
            rows = connection.execute(
                select(events).where(events.c.digest == digest).order_by(events.c.id)
            ).all()
            return History(
                identifier=identifier,
                claim=self._claim(connection, digest),
                items=self._linked_ids(connection, digest),
                events=tuple(
                    Event(
                        at=row.at,
                        action=row.action,
                        actor=row.actor,
                        reason=row.reason,
                        item_id=row.item_id,
                        owner=Owner(
                            organisation=row.owner_organisation,
                            unit=row.owner_unit,
                            contact=row.owner_contact,
                        )
                        if row.owner_organisation is not None
                        else None,
                    )
                    for row in rows
                ),
            )

        return run(self._engine, work, target=self.url, write=False)

    # -- keys --------------------------------------------------------------------------------

    def rekey(self, keys: KeyRing, *, now: dt.datetime) -> tuple[str, ...]:
        """Re-key the blind index with the keys of `keys` the registry does not use yet.

        `keys` must hold the registry's keys, in order, then one or more new
        ones. Every digest (claims, links, history) is wrapped under the new
        keys in one transaction: no entry is lost, and a concurrent writer
        waits for it (and then needs the new keys). The registry object then
        uses `keys`.

        Args:
            keys: the registry's keys followed by the new ones.
            now: when, with a zone (recorded with the new keys).

        Returns:
            The ids of the keys added.

        Raises:
            RegistryKeyError: `keys` does not start with the registry's keys, or adds none.
            RegistryError: a database error (nothing is changed).
        """
        now = _aware(now)
        tables = self._tables

        def work(connection: Connection) -> tuple[str, ...]:
            recorded = self._recorded_keys(connection, exclusive=True)
            depth = chain_matches(keys, [(entry["id"], entry["check"]) for entry in recorded])
            new = keys.keys[depth:]
            if not new:
                raise RegistryKeyError(
                    "no new key to re-key with: append one to the key file", target=keys.source
                )
            for table in (tables.claims, tables.links, tables.events):
                digests = connection.execute(select(table.c.digest).distinct()).scalars().all()
                mapping = []
                for digest in digests:
                    wrapped = digest
                    for key in new:
                        wrapped = key.wrap(wrapped)
                    mapping.append({"old": digest, "new": wrapped})
                if mapping:
                    statement = (
                        update(table)
                        .where(table.c.digest == bindparam("old"))
                        .values(digest=bindparam("new"))
                    )
                    if "key_id" in table.c:
                        statement = statement.values(digest=bindparam("new"), key_id=new[-1].id)
                    connection.execute(statement, mapping)
            chain = [
                *recorded,
                *({"id": key.id, "check": key.check, "added": now.isoformat()} for key in new),
            ]
            meta = tables.meta
            connection.execute(
                update(meta).where(meta.c.name == "keys").values(value=json.dumps(chain))
            )
            return tuple(key.id for key in new)

        added = run(self._engine, work, target=self.url)
        self._keys = keys
        return added
