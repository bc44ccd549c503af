"""The life of a claim after ingest: transfer, renew, release, lapse, and the history.

A claim holds for a claim period (`expiry`) unless renewed; a transfer hands
it to another owner for a full period; a release gives it up. A lapsed claim
is taken over by the next item to name the subject (`take_over_lapsed`, from
`ingest`). Every change is a row of the subject's history (`Store.event`):
who, when and why; `history` reads it back, for an owner or an auditor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import ColumnElement, Table, and_, delete, select, update
from sqlalchemy.engine import Connection

from dissemination.errors import RefusedError, safe_term
from dissemination.identifiers import NormalisedIdentifier
from dissemination.models import Owner, Principal
from dissemination.policy import Policy
from dissemination.registry.answers import Claim, Event, History
from dissemination.registry.database import Conflict
from dissemination.registry.store import Store, Subject, aware, claim_of, identifier_of

__all__ = [
    "Authority",
    "Replay",
    "expiry",
    "history",
    "release",
    "renew",
    "replay",
    "take_over_lapsed",
    "transfer",
]


def expiry(now: dt.datetime, period: dt.timedelta | None) -> dt.datetime | None:
    """When a claim made or renewed at `now` lapses.

    Args:
        now: the time of the claim.
        period: the claim period (None: for ever).

    Returns:
        The expiry, or None for a claim that never lapses.
    """
    return None if period is None else now + period


def take_over_lapsed(
    store: Store,
    connection: Connection,
    digest: str,
    lapsed: Claim,
    row: dict[str, object],
    *,
    now: dt.datetime,
    actor: str,
) -> Claim | None:
    """Claim a subject whose claim has lapsed, unless another writer just did.

    A compare and set on the lapsed claim's expiry: of concurrent writers, one
    wins; the history records the lapse, then the new claim.

    Args:
        store: the registry's store.
        connection: the transaction.
        digest: the subject's digest.
        lapsed: the claim that lapsed.
        row: the new claim's `claims` row.
        now: when, with a zone.
        actor: who claims.

    Returns:
        The new claim, or None when another writer took the subject first.
    """
    claims = store.tables.claims
    taken = connection.execute(
        update(claims)
        .where(_same_claim(claims, digest, lapsed))
        .values({key: value for key, value in row.items() if key != "digest"})
    ).rowcount
    if taken != 1:
        return None
    claim = claim_of(row)
    store.event(
        connection,
        digest,
        at=now,
        action="lapse",
        actor=actor,
        item_id=lapsed.item_id,
        reason=f"claim expired at {lapsed.expires.isoformat() if lapsed.expires else ''}",
    )
    store.event(
        connection,
        digest,
        at=now,
        action="claim",
        actor=actor,
        item_id=claim.item_id,
        owner=claim.owner,
        expires=claim.expires,
    )
    return claim


@dataclass(frozen=True, slots=True)
class Authority:
    """Who may change or read a subject's ownership (DESIGN §5; issue 12, deliver 7).

    The owner's organisation may hand off, renew and release its own claims
    and read their history. A principal with the profile's
    `registry_admin_role` may do so for any subject; one with its
    `registry_auditor_role` may read any history. Everyone else is refused,
    and the refusal is recorded in the subject's history.

    Attributes:
        admin_role: the registry administrator role, if the profile names one.
        auditor_role: the registry auditor role, if the profile names one.
    """

    admin_role: str | None = None
    auditor_role: str | None = None

    @classmethod
    def of(cls, policy: Policy) -> Authority:
        """The roles a profile names (`settings:` in `profile.yaml`).

        Args:
            policy: the profile.

        Returns:
            The authority it defines.
        """
        settings = policy.settings
        return cls(settings.registry_admin_role, settings.registry_auditor_role)

    def _has(self, who: Principal, role: str | None) -> bool:
        return role is not None and role in who.roles

    def may_change(self, who: Principal, claim: Claim | None) -> bool:
        """Whether `who` may transfer, renew or release a subject with this claim.

        Args:
            who: the principal acting.
            claim: the subject's claim (None when unowned).

        Returns:
            True for the owner's organisation or a registry administrator.
        """
        owns = claim is not None and claim.owner.organisation == who.organisation
        return owns or self._has(who, self.admin_role)

    def may_read(self, who: Principal, claim: Claim | None) -> bool:
        """Whether `who` may read the history of a subject with this claim.

        Args:
            who: the principal asking.
            claim: the subject's claim, lapsed or not (None when unowned).

        Returns:
            True for the owner's organisation, an auditor or an administrator.
        """
        return self.may_change(who, claim) or self._has(who, self.auditor_role)


@dataclass(frozen=True, slots=True)
class _Refused:
    """What a transaction returns when it recorded a refusal (committed, then raised)."""

    operation: str


def _refuse(
    store: Store, connection: Connection, digest: str, *, who: Principal, now: dt.datetime, op: str
) -> _Refused:
    """Record a refusal in the subject's history (at the later of `now` and its last event)."""
    latest = store.last_event(connection, [digest])
    store.event(
        connection,
        digest,
        at=now if latest is None else max(now, latest),
        action="refused",
        actor=who.id,
        reason=f"{op} refused: not the owner's organisation and no registry role for it",
    )
    return _Refused(op)


def _raise_refused(refused: _Refused, who: Principal) -> NoReturn:
    raise RefusedError(
        f"registry {refused.operation} refused for {safe_term(who.id)}: "
        "only the owner's organisation or a registry administrator may"
        + (" (or an auditor)" if refused.operation == "history" else "")
        + "; the refusal is recorded"
    )


def _same_claim(claims: Table, digest: str, claim: Claim) -> ColumnElement[bool]:
    """The claim row exactly as it was read: the guard of a compare-and-set."""
    expires = (
        claims.c.expires.is_(None) if claim.expires is None else claims.c.expires == claim.expires
    )
    return and_(
        claims.c.digest == digest,
        claims.c.owner_organisation == claim.owner.organisation,
        claims.c.owner_unit == claim.owner.unit,
        claims.c.owner_contact == claim.owner.contact,
        claims.c.item_id == claim.item_id,
        claims.c.since == claim.since,
        expires,
    )


def _checked(rowcount: int) -> None:
    """A compare-and-set must change exactly one row; otherwise another writer won."""
    if rowcount != 1:
        raise Conflict


def _longest(current: dt.datetime | None, proposed: dt.datetime | None) -> dt.datetime | None:
    """The later of two expiries (None: for ever): a change never shortens a claim."""
    if current is None or proposed is None:
        return None
    return max(current, proposed)


def _begin_change(
    store: Store,
    connection: Connection,
    identifier: NormalisedIdentifier,
    *,
    now: dt.datetime,
    who: Principal,
    authority: Authority,
    operation: str,
) -> tuple[str, dt.datetime, Claim] | _Refused:
    """Lock the subject, check who acts, place the change in time, read the live claim.

    The check comes first and does not depend on whether the subject is owned,
    so a principal with no right to change it learns nothing from the refusal.

    Returns:
        The digest, the time to record and the live claim (locked against
        other writers); or the refusal, recorded.

    Raises:
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner.
    """
    digest = store.digest_now(connection, identifier)
    store.lock(connection, [digest])
    if not authority.may_change(who, store.claim(connection, digest)):
        return _refuse(store, connection, digest, who=who, now=now, op=operation)
    at = store.story_time(connection, [digest], now)
    return digest, at, store.live_claim(connection, digest, at)


def transfer(
    store: Store,
    subject: Subject,
    to: Owner,
    *,
    now: dt.datetime,
    by: Principal,
    authority: Authority,
    reason: str,
    period: dt.timedelta | None,
) -> Claim:
    """Hand a subject to another owner for a full claim period (see `Registry.transfer`).

    One transaction: the subject is locked (`Store.lock`), the change placed
    in time (`Store.story_time`), the live claim read, and the row changed by
    compare-and-set on exactly what was read (row count checked); the history
    event is written only after that change. The new claim runs at least as
    long as the old one did.

    Args:
        store: the registry's store.
        subject: the subject.
        to: the new owner.
        now: when, with a zone.
        by: who hands it over (the recorded actor is their id).
        authority: who may (the profile's registry roles).
        reason: why.
        period: the claim period.

    Returns:
        The new claim.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RefusedError: `by` may not change this subject (the refusal is recorded).
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> Claim | _Refused:
        begun = _begin_change(
            store,
            connection,
            identifier,
            now=now,
            who=by,
            authority=authority,
            operation="transfer",
        )
        if isinstance(begun, _Refused):
            return begun
        digest, at, current = begun
        expires = _longest(current.expires, expiry(at, period))
        changed = connection.execute(
            update(claims)
            .where(_same_claim(claims, digest, current))
            .values(
                owner_organisation=to.organisation,
                owner_unit=to.unit,
                owner_contact=to.contact,
                since=at,
                expires=expires,
            )
        ).rowcount
        _checked(changed)
        store.event(
            connection,
            digest,
            at=at,
            action="transfer",
            actor=by.id,
            reason=reason,
            item_id=current.item_id,
            owner=to,
            expires=expires,
        )
        return Claim(to, at, expires, current.item_id)

    done = store.run(work, idempotent=False)
    if isinstance(done, _Refused):
        _raise_refused(done, by)
    return done


def renew(
    store: Store,
    subject: Subject,
    *,
    now: dt.datetime,
    by: Principal,
    authority: Authority,
    reason: str | None,
    period: dt.timedelta | None,
) -> Claim:
    """Extend a live claim to a full claim period from `now` (see `Registry.renew`).

    As `transfer`: locked, placed in time, compare-and-set, event after the
    change. A renewal never shortens a claim (a shorter period, or a `now`
    within the tolerance behind, keeps the later expiry).

    Args:
        store: the registry's store.
        subject: the subject.
        now: when, with a zone.
        by: who renews (the recorded actor is their id).
        authority: who may (the profile's registry roles).
        reason: why, if given.
        period: the claim period.

    Returns:
        The renewed claim.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RefusedError: `by` may not change this subject (the refusal is recorded).
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> Claim | _Refused:
        begun = _begin_change(
            store, connection, identifier, now=now, who=by, authority=authority, operation="renewal"
        )
        if isinstance(begun, _Refused):
            return begun
        digest, at, current = begun
        expires = _longest(current.expires, expiry(at, period))
        changed = connection.execute(
            update(claims).where(_same_claim(claims, digest, current)).values(expires=expires)
        ).rowcount
        _checked(changed)
        store.event(
            connection,
            digest,
            at=at,
            action="renew",
            actor=by.id,
            reason=reason,
            item_id=current.item_id,
            owner=current.owner,
            expires=expires,
        )
        return Claim(current.owner, current.since, expires, current.item_id)

    done = store.run(work, idempotent=False)
    if isinstance(done, _Refused):
        _raise_refused(done, by)
    return done


def release(
    store: Store,
    subject: Subject,
    *,
    now: dt.datetime,
    by: Principal,
    authority: Authority,
    reason: str,
) -> None:
    """Give up ownership of a subject; its links stay (see `Registry.release`).

    As `transfer`: locked, placed in time, compare-and-set delete, event
    after the change. Of two concurrent releases, one releases and the
    other finds no live owner.

    Args:
        store: the registry's store.
        subject: the subject.
        now: when, with a zone.
        by: who releases (the recorded actor is their id).
        authority: who may (the profile's registry roles).
        reason: why.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RefusedError: `by` may not change this subject (the refusal is recorded).
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> _Refused | None:
        begun = _begin_change(
            store, connection, identifier, now=now, who=by, authority=authority, operation="release"
        )
        if isinstance(begun, _Refused):
            return begun
        digest, at, current = begun
        changed = connection.execute(
            delete(claims).where(_same_claim(claims, digest, current))
        ).rowcount
        _checked(changed)
        store.event(
            connection,
            digest,
            at=at,
            action="release",
            actor=by.id,
            reason=reason,
            item_id=current.item_id,
        )
        return None

    done = store.run(work, idempotent=False)
    if done is not None:
        _raise_refused(done, by)


def history(
    store: Store, subject: Subject, *, by: Principal, authority: Authority, now: dt.datetime
) -> History:
    """Every change to a subject's ownership and links (see `Registry.history`).

    Read in one read-only transaction; a principal who may not read it is
    refused, and the refusal is recorded in a second (write) transaction.

    Args:
        store: the registry's store.
        subject: the subject.
        by: who asks.
        authority: who may (the owner's organisation, an auditor, an administrator).
        now: when, with a zone (the time a refusal is recorded at).

    Returns:
        The claim (lapsed or not), the linked items and the events, oldest first.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RefusedError: `by` may not read this history (the refusal is recorded).
        RegistryError: a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    events = store.tables.events

    def work(connection: Connection) -> History | None:
        digest = store.digest_now(connection, identifier)
        claim = store.claim(connection, digest)
        if not authority.may_read(by, claim):
            return None
        rows = connection.execute(
            select(events).where(events.c.digest == digest).order_by(events.c.id)
        ).all()
        return History(
            identifier=identifier,
            claim=claim,
            items=store.linked_ids(connection, digest),
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
                    expires=row.expires,
                )
                for row in rows
            ),
        )

    found = store.run(work, write=False)
    if found is not None:
        return found

    def record(connection: Connection) -> _Refused:
        digest = store.digest_now(connection, identifier)
        store.lock(connection, [digest])
        return _refuse(store, connection, digest, who=by, now=now, op="history")

    _raise_refused(store.run(record), by)


@dataclass(frozen=True, slots=True)
class Replay:
    """A subject's claim rebuilt from its history, and every event that contradicts it.

    Attributes:
        claim: the claim the history leads to (lapsed or not), None when unowned.
        contradictions: one line per event the story before it cannot explain
            (a transfer of an unowned subject, a second claim on a live one,
            time running backwards, a claim shortened), oldest first.
    """

    claim: Claim | None
    contradictions: tuple[str, ...]


def _claimed(claim: Claim | None, event: Event, live: bool) -> tuple[Claim | None, str | None]:
    if live:
        return claim, "claims a subject with a live owner"
    if event.owner is None or event.item_id is None:
        return claim, "names no owner or item"
    return Claim(event.owner, event.at, event.expires, event.item_id), None


def _changed(claim: Claim | None, event: Event, live: bool) -> tuple[Claim | None, str | None]:
    if claim is None or not live or event.owner is None:
        return claim, "changes a subject with no live owner"
    shorter = event.expires is not None and (claim.expires is None or event.expires < claim.expires)
    if event.action == "renew":
        renewed = Claim(claim.owner, claim.since, event.expires, claim.item_id)
        if event.owner != claim.owner:
            return renewed, "renews for an owner other than the claim's"
        return renewed, "shortens the claim" if shorter else None
    moved = Claim(event.owner, event.at, event.expires, claim.item_id)
    return moved, "shortens the claim" if shorter else None


def _released(claim: Claim | None, event: Event, live: bool) -> tuple[Claim | None, str | None]:
    if event.action == "release":
        return None, None if live else "releases a subject with no live owner"
    return None, None if claim is not None and not live else "lapses a claim that had not lapsed"


def _unchanged(claim: Claim | None, _event: Event, _live: bool) -> tuple[Claim | None, str | None]:
    return claim, None


_STEPS = {
    "claim": _claimed,
    "transfer": _changed,
    "renew": _changed,
    "release": _released,
    "lapse": _released,
    "link": _unchanged,
    "unlink": _unchanged,
    "refused": _unchanged,
}


def replay(events: Iterable[Event]) -> Replay:
    """Rebuild a subject's claim from its history, as an auditor would.

    The history is the registry's account of every change; the claims table
    is its present. They must agree: replaying the events in order gives the
    claim exactly (owner, item, since, expires), and no event contradicts the
    story before it. Tests and the load benchmark check this after racing
    every pair of life-cycle operations.

    Args:
        events: the subject's events, oldest first (`History.events`).

    Returns:
        The claim the history leads to, and the contradictions found.
    """
    claim: Claim | None = None
    problems: list[str] = []
    last: dt.datetime | None = None
    for number, event in enumerate(events, start=1):
        where = f"event {number} ({event.action} at {event.at.isoformat()})"
        if last is not None and event.at < last:
            problems.append(f"{where}: earlier than the event before it")
        last = event.at if last is None else max(last, event.at)
        step = _STEPS.get(event.action)
        if step is None:
            problems.append(f"{where}: is not a known action")
            continue
        claim, problem = step(claim, event, claim is not None and claim.live(event.at))
        if problem is not None:
            problems.append(f"{where}: {problem}")
    return Replay(claim, tuple(problems))
