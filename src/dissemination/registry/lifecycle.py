"""The life of a claim after ingest: transfer, renew, release, lapse, and the history.

A claim holds for a claim period (`expiry`) unless renewed; a transfer hands
it to another owner for a full period; a release gives it up. A lapsed claim
is taken over by the next item to name the subject (`take_over_lapsed`, from
`ingest`). Every change is a row of the subject's history (`Store.event`):
who, when and why; `history` reads it back, for an owner or an auditor.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from dissemination.models import Owner
from dissemination.registry.answers import Claim, Event, History
from dissemination.registry.store import Store, Subject, aware, claim_of, identifier_of

__all__ = ["expiry", "history", "release", "renew", "take_over_lapsed", "transfer"]


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
        .where(claims.c.digest == digest, claims.c.expires == lapsed.expires)
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
    )
    return claim


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
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims
    expires = expiry(now, period)

    def work(connection: Connection) -> Claim:
        digest = store.digest_now(connection, identifier)
        current = store.live_claim(connection, digest, now)
        connection.execute(
            update(claims)
            .where(claims.c.digest == digest)
            .values(
                owner_organisation=to.organisation,
                owner_unit=to.unit,
                owner_contact=to.contact,
                since=now,
                expires=expires,
            )
        )
        store.event(
            connection,
            digest,
            at=now,
            action="transfer",
            actor=actor,
            reason=reason,
            item_id=current.item_id,
            owner=to,
        )
        return Claim(to, now, expires, current.item_id)

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
    """Extend a live claim by a full claim period from `now` (see `Registry.renew`).

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
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims
    expires = expiry(now, period)

    def work(connection: Connection) -> Claim:
        digest = store.digest_now(connection, identifier)
        current = store.live_claim(connection, digest, now)
        connection.execute(update(claims).where(claims.c.digest == digest).values(expires=expires))
        store.event(
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

    return store.run(work)


def release(store: Store, subject: Subject, *, now: dt.datetime, actor: str, reason: str) -> None:
    """Give up ownership of a subject; its links stay (see `Registry.release`).

    Args:
        store: the registry's store.
        subject: the subject.
        now: when, with a zone.
        actor: who releases.
        reason: why.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RegistryError: the subject has no live owner, or a database error.
    """
    now = aware(now)
    identifier = identifier_of(subject)
    claims = store.tables.claims

    def work(connection: Connection) -> None:
        digest = store.digest_now(connection, identifier)
        current = store.live_claim(connection, digest, now)
        connection.execute(delete(claims).where(claims.c.digest == digest))
        store.event(
            connection,
            digest,
            at=now,
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
                )
                for row in rows
            ),
        )

    return store.run(work, write=False)
