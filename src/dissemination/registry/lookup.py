"""Reading what a lookup needs: the claim and each linked item's stored label.

The policy filter itself is pure and lives in `answers.answer`; this module
reads the rows in one read-only transaction and hands them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from dissemination.decision import Decision
from dissemination.models import Item, Principal
from dissemination.policy import Policy, default_policy
from dissemination.registry.answers import Claim, LookupAnswer, StoredLink, answer
from dissemination.registry.labels import open_label
from dissemination.registry.store import Store, Subject, aware, identifier_of

__all__ = ["lookup"]


def _positions(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def lookup(
    store: Store,
    subject: Subject,
    reader: Principal,
    *,
    now: dt.datetime,
    policy: Policy | None,
    record: Callable[[Item, Decision], object] | None = None,
) -> LookupAnswer:
    """Who owns intelligence on `subject`, as far as `reader` may know (see `Registry.lookup`).

    Args:
        store: the registry's store.
        subject: a subject, or an identifier from `identifiers.normalise_value`.
        reader: who asks.
        now: the time of the lookup, with a zone.
        policy: the profile to decide by (the embedded default when None).
        record: records what the answer shows of each item (see `answers.answer`).

    Returns:
        The answer.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RegistryError: a database error.
        RegistryKeyError: the registry was re-keyed with keys this process lacks.
        TrailError: `record` could not write the disclosure trail (no answer).
    """
    now = aware(now)
    identifier = identifier_of(subject)
    policy = policy if policy is not None else default_policy()
    links, items = store.tables.links, store.tables.items

    def work(connection: Connection) -> tuple[Claim | None, list[Any]]:
        digest = store.digest_now(connection, identifier)
        claim = store.claim(connection, digest)
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

    claim, rows = store.run(work, write=False)
    stored = [
        StoredLink(
            item_id=row.item_id,
            label=open_label(row.label, row.item_id, store.keys, policy=policy),
            positions=_positions(row.positions),
            linked=row.linked,
            label_verified=bool(row.label_verified),
        )
        for row in rows
    ]
    return answer(identifier, claim, stored, reader, now=now, policy=policy, record=record)
