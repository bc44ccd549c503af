"""Re-keying the blind index: every digest wrapped under new keys, nothing lost.

A digest under keys `k1..kn` is wrapped by each new key in turn (see
`keys.RegistryKey.wrap`), so re-keying needs no identifier in clear: the
registry never held one. The whole re-key is one transaction holding the key
chain exclusively; a concurrent writer waits for it, and then needs the new keys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from dissemination.errors import RegistryKeyError
from dissemination.registry.keys import KeyRing, RegistryKey, chain_matches
from dissemination.registry.store import Store, aware

__all__ = ["rekey"]


def _wrap(digest: str, keys: Sequence[RegistryKey]) -> str:
    for key in keys:
        digest = key.wrap(digest)
    return digest


def rekey(store: Store, keys: KeyRing, *, now: dt.datetime) -> tuple[str, ...]:
    """Wrap every digest under the keys of `keys` the registry does not use yet.

    See `Registry.rekey`, which then uses `keys`.

    Args:
        store: the registry's store (with its current keys).
        keys: the registry's keys followed by the new ones.
        now: when, with a zone (recorded with the new keys).

    Returns:
        The ids of the keys added.

    Raises:
        RegistryKeyError: `keys` does not start with the registry's keys, or adds none.
        RegistryError: a database error (nothing is changed).
    """
    now = aware(now)
    tables = store.tables

    def work(connection: Connection) -> tuple[str, ...]:
        recorded = store.recorded_keys(connection, exclusive=True)
        depth = chain_matches(keys, [(entry["id"], entry["check"]) for entry in recorded])
        new = keys.keys[depth:]
        if not new:
            raise RegistryKeyError(
                "no new key to re-key with: append one to the key file", target=keys.source
            )
        wrapped: dict[str, str] = {}  # a subject's digest stands in all three tables
        for table in (tables.claims, tables.links, tables.events):
            digests = connection.execute(select(table.c.digest).distinct()).scalars().all()
            for digest in digests:
                if digest not in wrapped:
                    wrapped[digest] = _wrap(digest, new)
            mapping = [{"old": digest, "new": wrapped[digest]} for digest in digests]
            if mapping:
                statement = (
                    update(table)
                    .where(table.c.digest == bindparam("old"))
                    .values(digest=bindparam("new"))
                )
                if "key_id" in table.c:
                    statement = statement.values(key_id=new[-1].id)
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

    return store.run(work)
