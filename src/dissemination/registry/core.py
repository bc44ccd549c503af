"""The ownership registry: one owner per subject, deconfliction lookups that leak nothing.

    >>> registry = Registry("sqlite:///registry.sqlite", keys=load_keys())  # doctest: +SKIP
    >>> registry.register(item, now=now)  # doctest: +SKIP
    >>> registry.lookup(subject, reader, now=now).to_json()  # doctest: +SKIP

`Registry` opens the database and is the one door to it; each method is one
database transaction, done by the module of its concept: `ingest` (register),
`lookup`, `lifecycle` (transfer, renew, release, lapse, history) and `rekey`,
over the rows of `store`. What is stored and why: see `labels` (the item
label, no content), `keys` (the blind index) and `answers` (what a reader
learns). `docs/registry.md` tells the workflow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Final

from sqlalchemy.engine import Connection

from dissemination.decision import Decision
from dissemination.models import Item, Owner, Principal
from dissemination.policy import Policy, default_policy
from dissemination.registry import ingest, lifecycle, schema
from dissemination.registry import lookup as lookups
from dissemination.registry import rekey as rekeying
from dissemination.registry.answers import Claim, History, LookupAnswer, Registration
from dissemination.registry.database import (
    advisory_lock,
    default_url,
    display_url,
    make_tables,
    open_engine,
)
from dissemination.registry.keys import KeyRing, load_keys
from dissemination.registry.store import Store, Subject

__all__ = ["DEFAULT_CLAIM_PERIOD", "Registry"]

DEFAULT_CLAIM_PERIOD: Final = dt.timedelta(days=180)
"""How long a claim holds unless renewed (or transferred, which renews it)."""

_INGEST: Final = "ingest"


def _authority(policy: Policy | None) -> lifecycle.Authority:
    return lifecycle.Authority.of(policy if policy is not None else default_policy())


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
        read_only: bool = False,
        upgrade: bool = False,
    ) -> None:
        """Open the registry; opening reads, and never creates or alters anything.

        The database must hold a registry at this release's schema revision
        (`schema.HEAD`), keyed with `keys`: create or migrate it first with
        `dissemination registry upgrade` (`schema.upgrade`), or pass
        `upgrade=True` to do that here.

        Args:
            url: a SQLAlchemy URL; the default file (`database.default_url`) when None.
            keys: the blind-index keys; read by `keys.load_keys(key_file)` when None.
            key_file: a key file, when `keys` is None.
            claim_period: how long a claim holds unless renewed (None: for ever).
            table_prefix: the prefix of the table names.
            read_only: open for lookups and history only (a SQLite file opened
                `mode=ro`, PostgreSQL transactions `READ ONLY`); a write is refused.
            upgrade: create or migrate the registry first (`schema.upgrade`).

        Raises:
            RegistryError: the database cannot be reached, holds no registry, or
                one at another schema revision (the message says what to run).
            RegistryKeyError: no key, a malformed key, or keys other than the registry's.
        """
        url = url if url is not None else default_url()
        self.url = display_url(url)
        self.claim_period = claim_period
        self._prefix = table_prefix
        ring = keys if keys is not None else load_keys(key_file)
        if upgrade:
            schema.upgrade(url, keys=ring, table_prefix=table_prefix)
        self._store = Store(
            engine=open_engine(url, read_only=read_only),
            tables=make_tables(table_prefix),
            keys=ring,
            url=self.url,
            read_only=read_only,
        )
        try:
            self._store.run(self._check, write=False)
        except BaseException:
            self.close()
            raise

    # -- life of the object ------------------------------------------------------

    def close(self) -> None:
        """Close the database connections."""
        self._store.engine.dispose()

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
            self._store.tables.metadata.drop_all(connection)

        self._store.run(work)

    def _check(self, connection: Connection) -> None:
        schema.check(connection, self._prefix, self.url)
        self._store.depth(connection)  # refuses keys other than the registry's

    # -- ingest and lookup ---------------------------------------------------------

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
        label and links; an older version than the newest registered stores
        nothing and gives no registrations (see `superseded`). However many
        processes register the same subject at once, exactly one owns it and
        every link is kept (a primary key, not a lock in Python).

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
        return ingest.register(
            self._store,
            item,
            now=now,
            actor=actor,
            label_verified=label_verified,
            period=self.claim_period,
        )

    def register_many(
        self,
        items: Sequence[Item],
        *,
        now: dt.datetime,
        actor: str = _INGEST,
        label_verified: bool = False,
    ) -> tuple[tuple[Registration, ...], ...]:
        """Register many items in one transaction, with bulk statements (see `register`).

        The outcome is the one `register` gives item by item, in order; every
        identifier is checked first, and nothing is written if anything fails.

        Args:
            items: the items, in order.
            now: the time of registration, with a zone.
            actor: who registers (recorded in the history).
            label_verified: whether the items' label signatures were verified.

        Returns:
            Per item, one registration per subject, in item order; none for an
            item older than the newest version registered (nothing of it is stored).

        Raises:
            IdentifierError: a subject identifier cannot be right; names the subject.
            RegistryError: a database error (nothing is written).
            RegistryKeyError: the registry was re-keyed with keys this process lacks.
        """
        return ingest.register_many(
            self._store,
            items,
            now=now,
            actor=actor,
            label_verified=label_verified,
            period=self.claim_period,
        )

    def superseded(self, item: Item) -> bool:
        """Whether a newer label version of the item is registered (a `decide` check).

        Pass it as `decide(..., superseded=registry.superseded)`: a decision on
        an older version than the newest registered is `none` with reason
        `label.superseded`. An item never registered is not superseded.

        Args:
            item: the item (its id and signed `version`).

        Returns:
            True when the registry holds a newer version of the item's label.

        Raises:
            UnavailableError: the database stayed away.
            RegistryError: a database error (`decide` then shows the item to nobody).
        """

        def work(connection: Connection) -> dict[str, int]:
            return ingest.newest_versions(connection, self._store.tables.items, [item.id])

        newest = self._store.run(work, write=False)
        return newest.get(item.id, 0) > item.version

    def lookup(
        self,
        subject: Subject,
        reader: Principal,
        *,
        now: dt.datetime,
        policy: Policy | None = None,
        record: Callable[[Item, Decision], object] | None = None,
        after: str | None = None,
        limit: int = lookups.DEFAULT_PAGE,
    ) -> LookupAnswer:
        """Who owns intelligence on `subject`, as far as `reader` may know.

        Each linked item's stored label goes through `decide` for this reader;
        items at `none` (and items whose subject entry the reader may not see)
        contribute nothing, so a subject known only through such items gets
        the same answer as one never registered.

            >>> with open_trail("trail.jsonl") as trail:  # doctest: +SKIP
            ...     registry.lookup(subject, reader, now=now, record=trail.record)

        Args:
            subject: a subject, or an identifier from `identifiers.normalise_value`.
            reader: who asks.
            now: the time of the lookup, with a zone.
            policy: the profile to decide by (the embedded default when None).
            record: called, before the answer is returned, for each item the
                answer shows, with the item's stored label (no content) and
                the decision narrowed to what a lookup shows (no portion, no
                subject): the disclosure trail's `DisclosureTrail.record`, as
                for `filter`. Items that contribute nothing are not recorded.
                If it raises, the lookup raises and no answer is returned.
            after: the `next` of the previous answer, for the next page.
            limit: the most linked items in one answer (1 to 1000).

        Returns:
            The answer.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RegistryError: a database error.
            RegistryKeyError: the registry was re-keyed with keys this process lacks.
            TrailError: `record` could not write the disclosure trail (no answer).
        """
        return lookups.lookup(
            self._store,
            subject,
            reader,
            now=now,
            policy=policy,
            record=record,
            after=after,
            limit=limit,
        )

    # -- life cycle ----------------------------------------------------------------

    def transfer(
        self,
        subject: Subject,
        to: Owner,
        *,
        now: dt.datetime,
        by: Principal,
        reason: str,
        policy: Policy | None = None,
    ) -> Claim:
        """Hand a subject to another owner (a law-enforcement agency, say); history stays.

        Only the owner's organisation, or a principal with the profile's
        `registry_admin_role`, may; anyone else is refused and the refusal
        recorded. The new owner's claim runs from `now` for a full claim
        period, and never ends before the old one would have.

        Args:
            subject: the subject.
            to: the new owner.
            now: when, with a zone.
            by: who hands it over (their id is the recorded actor).
            reason: why.
            policy: the profile naming the registry roles (the embedded default when None).

        Returns:
            The new claim.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RefusedError: `by` may not hand this subject over (the refusal is recorded).
            ClockBehindError: `now` is earlier than the subject's last change.
            RegistryError: the subject has no live owner, or a database error.
        """
        return lifecycle.transfer(
            self._store,
            subject,
            to,
            now=now,
            by=by,
            authority=_authority(policy),
            reason=reason,
            period=self.claim_period,
        )

    def renew(
        self,
        subject: Subject,
        *,
        now: dt.datetime,
        by: Principal,
        reason: str | None = None,
        policy: Policy | None = None,
    ) -> Claim:
        """Extend a live claim to a full claim period from `now` (never shortening it).

        Only the owner's organisation or a registry administrator may.

        Args:
            subject: the subject.
            now: when, with a zone.
            by: who renews (their id is the recorded actor).
            reason: why, if given.
            policy: the profile naming the registry roles (the embedded default when None).

        Returns:
            The renewed claim.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RefusedError: `by` may not renew this claim (the refusal is recorded).
            ClockBehindError: `now` is earlier than the subject's last change.
            RegistryError: the subject has no live owner, or a database error.
        """
        return lifecycle.renew(
            self._store,
            subject,
            now=now,
            by=by,
            authority=_authority(policy),
            reason=reason,
            period=self.claim_period,
        )

    def release(
        self,
        subject: Subject,
        *,
        now: dt.datetime,
        by: Principal,
        reason: str,
        policy: Policy | None = None,
    ) -> None:
        """Give up ownership of a subject: it is unowned until an item claims it anew.

        Only the owner's organisation or a registry administrator may. The
        links to items stay; the history records the release.

        Args:
            subject: the subject.
            now: when, with a zone.
            by: who releases (their id is the recorded actor).
            reason: why.
            policy: the profile naming the registry roles (the embedded default when None).

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RefusedError: `by` may not release this subject (the refusal is recorded).
            ClockBehindError: `now` is earlier than the subject's last change.
            RegistryError: the subject has no live owner, or a database error.
        """
        lifecycle.release(
            self._store, subject, now=now, by=by, authority=_authority(policy), reason=reason
        )

    def history(
        self,
        subject: Subject,
        *,
        by: Principal,
        now: dt.datetime,
        policy: Policy | None = None,
    ) -> History:
        """Every change to a subject's ownership and links, for its owner or an auditor.

        For the owner's organisation, a principal with the profile's
        `registry_auditor_role` or `registry_admin_role`; anyone else is
        refused and the refusal recorded. Not filtered by the policy: do not
        show it to readers; use `lookup`.

        Args:
            subject: the subject.
            by: who asks.
            now: when, with a zone (a refusal is recorded at this time).
            policy: the profile naming the registry roles (the embedded default when None).

        Returns:
            The claim (lapsed or not), the linked items and the events, oldest first.

        Raises:
            IdentifierError: the subject's identifier cannot be right.
            RefusedError: `by` may not read this history (the refusal is recorded).
            RegistryError: a database error.
        """
        return lifecycle.history(self._store, subject, by=by, authority=_authority(policy), now=now)

    # -- keys ----------------------------------------------------------------------

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
        added = rekeying.rekey(self._store, keys, now=now)
        self._store = dataclasses.replace(self._store, keys=keys)
        return added
