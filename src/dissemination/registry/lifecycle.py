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

from sqlalchemy import ColumnElement, Table, and_, delete, select, update
from sqlalchemy.engine import Connection

from dissemination.identifiers import NormalisedIdentifier
from dissemination.models import Owner
from dissemination.registry.answers import Claim, Event, History
from dissemination.registry.database import Conflict
from dissemination.registry.store import Store, Subject, aware, claim_of, identifier_of

__all__ = [
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
    store: Store, connection: Connection, identifier: NormalisedIdentifier, now: dt.datetime
) -> tuple[str, dt.datetime, Claim]:
    """Lock the subject, place the change in its story, read its live claim.

    Returns:
        The digest, the time to record, and the claim (locked against other writers).

    Raises:
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner.
    """
    digest = store.digest_now(connection, identifier)
    store.lock(connection, [digest])
    at = store.story_time(connection, [digest], now)
    return digest, at, store.live_claim(connection, digest, at)


def transfer(
    store: Store,
    subject: Subject,
    to: Owner,
    *,
    now: dt.datetime,
    actor: str,
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
        actor: who hands it over.
        reason: why.
        period: the claim period.

    Returns:
        The new claim.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> Claim:
        digest, at, current = _begin_change(store, connection, identifier, now)
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
            actor=actor,
            reason=reason,
            item_id=current.item_id,
            owner=to,
            expires=expires,
        )
        return Claim(to, at, expires, current.item_id)

    return store.run(work)


def renew(
    store: Store,
    subject: Subject,
    *,
    now: dt.datetime,
    actor: str,
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
        actor: who renews.
        reason: why, if given.
        period: the claim period.

    Returns:
        The renewed claim.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> Claim:
        digest, at, current = _begin_change(store, connection, identifier, now)
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
            actor=actor,
            reason=reason,
            item_id=current.item_id,
            owner=current.owner,
            expires=expires,
        )
        return Claim(current.owner, current.since, expires, current.item_id)

    return store.run(work)


def release(store: Store, subject: Subject, *, now: dt.datetime, actor: str, reason: str) -> None:
    """Give up ownership of a subject; its links stay (see `Registry.release`).

    As `transfer`: locked, placed in time, compare-and-set delete, event
    after the change. Of two concurrent releases, one releases and the
    other finds no live owner.

    Args:
        store: the registry's store.
        subject: the subject.
        now: when, with a zone.
        actor: who releases.
        reason: why.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        ClockBehindError: `now` is earlier than the subject's last change.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> None:
        digest, at, current = _begin_change(store, connection, identifier, now)
        changed = connection.execute(
            delete(claims).where(_same_claim(claims, digest, current))
        ).rowcount
        _checked(changed)
        store.event(
            connection,
            digest,
            at=at,
            action="release",
            actor=actor,
            reason=reason,
            item_id=current.item_id,
        )

    store.run(work)


def history(store: Store, subject: Subject) -> History:
    """Every change to a subject's ownership and links (see `Registry.history`).

    Args:
        store: the registry's store.
        subject: the subject.

    Returns:
        The claim (lapsed or not), the linked items and the events, oldest first.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RegistryError: a database error.
    """
    identifier = identifier_of(subject)
    events = store.tables.events

    def work(connection: Connection) -> History:
        digest = store.digest_now(connection, identifier)
        rows = connection.execute(
            select(events).where(events.c.digest == digest).order_by(events.c.id)
        ).all()
        return History(
            identifier=identifier,
            claim=store.claim(connection, digest),
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

    return store.run(work, write=False)


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
