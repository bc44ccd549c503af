"""Registering an item on ingest: store its label, link its subjects, claim the unowned.

One transaction per item. Exactly one owner per subject is the primary key of
`claims`: each writer inserts with `ON CONFLICT DO NOTHING` and reads what
won, touching subjects in digest order (one lock order for every writer on
PostgreSQL). A lapsed claim is taken over by compare and set
(`lifecycle.take_over_lapsed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from dissemination.identifiers import normalise_subjects
from dissemination.models import Item
from dissemination.registry.answers import Claim, Registration
from dissemination.registry.database import Conflict, insert_ignore
from dissemination.registry.labels import seal_label
from dissemination.registry.lifecycle import expiry, take_over_lapsed
from dissemination.registry.store import Store, aware, claim_of

__all__ = ["register"]

_ATTEMPTS = 3


def register(
    store: Store,
    item: Item,
    *,
    now: dt.datetime,
    actor: str,
    label_verified: bool,
    period: dt.timedelta | None,
) -> tuple[Registration, ...]:
    """Register an item: link it to each of its subjects, claim the unowned.

    See `Registry.register`.

    Args:
        store: the registry's store.
        item: the item.
        now: the time of registration, with a zone.
        actor: who registers (recorded in the history).
        label_verified: whether the item's label signature was verified.
        period: the claim period.

    Returns:
        One registration per subject, in item order.

    Raises:
        IdentifierError: a subject identifier cannot be right; names the subject.
        RegistryError: a database error (nothing is written).
        RegistryKeyError: the registry was re-keyed with keys this process lacks.
    """
    now = aware(now)
    identifiers = normalise_subjects(item)

    def work(connection: Connection) -> tuple[Registration, ...]:
        depth = store.depth(connection)
        key_id = store.key_id(depth)
        label = seal_label(item, store.keys.keys[depth - 1])
        groups: dict[str, list[int]] = {}
        for index, identifier in enumerate(identifiers):
            groups.setdefault(store.digest(identifier, depth), []).append(index)
        stale = _stale(store, connection, item.id, set(groups))
        store.lock(connection, [*groups, *stale])  # every writer of these subjects waits
        at = store.story_time(connection, [*groups, *stale], now)
        _store_label(store, connection, item, label, verified=label_verified, now=at)
        _unlink(store, connection, item.id, stale, now=at, actor=actor)
        outcomes: dict[str, tuple[str, Claim, tuple[str, ...]]] = {}
        for digest in sorted(groups):  # one lock order for every writer (PostgreSQL)
            _link(
                store,
                connection,
                digest,
                item.id,
                groups[digest],
                now=at,
                actor=actor,
                key_id=key_id,
            )
            outcome, claim = _claim_for(
                store, connection, digest, item, now=at, actor=actor, key_id=key_id, period=period
            )
            outcomes[digest] = (outcome, claim, store.linked_ids(connection, digest))
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

    return store.run(work)


def _store_label(
    store: Store,
    connection: Connection,
    item: Item,
    label: str,
    *,
    verified: bool,
    now: dt.datetime,
) -> None:
    items = store.tables.items
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


def _stale(store: Store, connection: Connection, item_id: str, digests: set[str]) -> list[str]:
    """The subjects an item was linked to and no longer names (a new version dropped them)."""
    links = store.tables.links
    current = connection.execute(
        select(links.c.digest).where(links.c.item_id == item_id).order_by(links.c.digest)
    ).scalars()
    return [digest for digest in current if digest not in digests]


def _unlink(
    store: Store,
    connection: Connection,
    item_id: str,
    stale: list[str],
    *,
    now: dt.datetime,
    actor: str,
) -> None:
    links = store.tables.links
    for digest in stale:
        connection.execute(
            delete(links).where(links.c.digest == digest, links.c.item_id == item_id)
        )
        store.event(connection, digest, at=now, action="unlink", actor=actor, item_id=item_id)


def _link(
    store: Store,
    connection: Connection,
    digest: str,
    item_id: str,
    positions: Sequence[int],
    *,
    now: dt.datetime,
    actor: str,
    key_id: str,
) -> None:
    links = store.tables.links
    text = ",".join(str(position) for position in positions)
    row = {
        "digest": digest,
        "item_id": item_id,
        "key_id": key_id,
        "positions": text,
        "linked": now,
    }
    if insert_ignore(connection, links, row):
        store.event(connection, digest, at=now, action="link", actor=actor, item_id=item_id)
        return
    connection.execute(
        update(links)
        .where(links.c.digest == digest, links.c.item_id == item_id, links.c.positions != text)
        .values(positions=text)
    )


def _claim_for(
    store: Store,
    connection: Connection,
    digest: str,
    item: Item,
    *,
    now: dt.datetime,
    actor: str,
    key_id: str,
    period: dt.timedelta | None,
) -> tuple[str, Claim]:
    owner = item.owner
    row: dict[str, object] = {
        "digest": digest,
        "key_id": key_id,
        "owner_organisation": owner.organisation,
        "owner_unit": owner.unit,
        "owner_contact": owner.contact,
        "item_id": item.id,
        "since": now,
        "expires": expiry(now, period),
    }
    for _ in range(_ATTEMPTS):
        if insert_ignore(connection, store.tables.claims, row):
            store.event(
                connection,
                digest,
                at=now,
                action="claim",
                actor=actor,
                item_id=item.id,
                owner=owner,
                expires=expiry(now, period),
            )
            return "new", claim_of(row)
        existing = store.claim(connection, digest)
        if existing is None:  # released under us (the subject lock makes this rare): claim again
            continue
        if existing.live(now):
            return "already_owned", existing
        taken = take_over_lapsed(store, connection, digest, existing, row, now=now, actor=actor)
        if taken is not None:
            return "new", taken
    raise Conflict  # the claim kept changing under us: `run` runs the registration again
