"""Registering an item on ingest: store its label, link its subjects, claim the unowned.

One transaction per call (`register_many`; `register` is a batch of one), a
few bulk statements per `BATCH` items: labels, links, claims and history
events each go in as one multi-row statement. Exactly one owner per subject
is the primary key of `claims`: each writer inserts with `ON CONFLICT DO
NOTHING` and reads what won, touching subjects in digest order (one lock
order for every writer on PostgreSQL). A lapsed claim is taken over by
compare and set (`lifecycle.take_over_lapsed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.engine import Connection

from dissemination.identifiers import NormalisedIdentifier, normalise_subjects
from dissemination.models import Item, Owner
from dissemination.registry.answers import Claim, Registration
from dissemination.registry.database import Conflict
from dissemination.registry.labels import seal_label
from dissemination.registry.lifecycle import expiry, take_over_lapsed
from dissemination.registry.store import Store, aware, claim_of

__all__ = ["BATCH", "newest_versions", "register", "register_many"]


BATCH: Final = 500
"""Items per statement batch in `register_many` (bounded IN-lists and VALUES lists)."""


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

    See `Registry.register`; one item is a batch of one (`register_many`).

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
    (registrations,) = register_many(
        store, [item], now=now, actor=actor, label_verified=label_verified, period=period
    )
    return registrations


def register_many(
    store: Store,
    items: Sequence[Item],
    *,
    now: dt.datetime,
    actor: str,
    label_verified: bool,
    period: dt.timedelta | None,
) -> tuple[tuple[Registration, ...], ...]:
    """Register many items in one transaction, with a few bulk statements per `BATCH` items.

    The outcome is the one registering the items one by one, in order, would
    give: the first item to name an unowned subject claims it; a later item
    (in this call or after) finds it `already_owned`. An item named twice is
    registered twice, in order. Every identifier is checked before anything
    is written; if any statement fails, nothing is written.

    Args:
        store: the registry's store.
        items: the items, in order.
        now: the time of registration, with a zone.
        actor: who registers (recorded in the history).
        label_verified: whether the items' label signatures were verified.
        period: the claim period.

    Returns:
        Per item, in order, one registration per subject, in item order.
        `Registration.items` lists the items linked to the subject when the
        batch of `BATCH` items it is in was written.

    Raises:
        IdentifierError: a subject identifier cannot be right; names the subject.
        RegistryError: a database error (nothing is written).
        RegistryKeyError: the registry was re-keyed with keys this process lacks.
    """
    now = aware(now)
    identifiers = [normalise_subjects(item) for item in items]

    def work(connection: Connection) -> tuple[tuple[Registration, ...], ...]:
        depth = store.depth(connection)
        batch = _Batch(store, connection, depth, now=now, actor=actor, period=period)
        results: list[tuple[Registration, ...]] = []
        start = 0
        while start < len(items):
            # A batch never names an item twice: a repeat starts the next batch.
            seen: set[str] = set()
            end = start
            while end < len(items) and end - start < BATCH and items[end].id not in seen:
                seen.add(items[end].id)
                end += 1
            results.extend(
                batch.write(items[start:end], identifiers[start:end], verified=label_verified)
            )
            start = end
        return tuple(results)

    return store.run(work)


class _Batch:
    """The bulk statements of `register_many`, on one transaction."""

    def __init__(
        self,
        store: Store,
        connection: Connection,
        depth: int,
        *,
        now: dt.datetime,
        actor: str,
        period: dt.timedelta | None,
    ) -> None:
        self.store = store
        self.connection = connection
        self.key = store.keys.keys[depth - 1]
        self.key_id = store.key_id(depth)
        self.depth = depth
        self.now = now
        self.at = now  # the time recorded for the batch being written (`Store.story_time`)
        self.actor = actor
        self.period = period
        # Each event waits with its place in the one-by-one order: (item's
        # position in the batch, step: 0 unlink, 1 link, 2 claim).
        self.events: list[tuple[tuple[int, int], dict[str, Any]]] = []
        self.position: dict[str, int] = {}

    def _event(self, digest: str, action: str, item_id: str, owner: Owner | None = None) -> None:
        step = {"unlink": 0, "link": 1, "claim": 2}[action]
        self.events.append(
            (
                (self.position[item_id], step),
                {
                    "digest": digest,
                    "at": self.at,
                    "action": action,
                    "actor": self.actor,
                    "reason": None,
                    "item_id": item_id,
                    "owner_organisation": owner.organisation if owner else None,
                    "owner_unit": owner.unit if owner else None,
                    "owner_contact": owner.contact if owner else None,
                    "expires": expiry(self.at, self.period) if action == "claim" else None,
                },
            )
        )

    def write(
        self,
        items: Sequence[Item],
        identifiers: Sequence[Sequence[NormalisedIdentifier]],
        *,
        verified: bool,
    ) -> list[tuple[Registration, ...]]:
        # An older label version than the newest stored changes nothing for its
        # item (no label, links or claims from it): its registrations are empty.
        stored = newest_versions(self.connection, self.store.tables.items, [i.id for i in items])
        keep = [n for n, item in enumerate(items) if item.version >= stored.get(item.id, 0)]
        if len(keep) < len(items):
            done = iter(
                self._write(
                    [items[n] for n in keep], [identifiers[n] for n in keep], verified=verified
                )
                if keep
                else []
            )
            kept = set(keep)
            return [next(done) if n in kept else () for n in range(len(items))]
        return self._write(items, identifiers, verified=verified)

    def _write(
        self,
        items: Sequence[Item],
        identifiers: Sequence[Sequence[NormalisedIdentifier]],
        *,
        verified: bool,
    ) -> list[tuple[Registration, ...]]:
        store, connection = self.store, self.connection
        tables = store.tables
        self.position = {item.id: position for position, item in enumerate(items)}
        groups: list[dict[str, list[int]]] = []
        for found in identifiers:
            group: dict[str, list[int]] = {}
            for index, identifier in enumerate(found):
                group.setdefault(store.digest(identifier, self.depth), []).append(index)
            groups.append(group)
        links = tables.links
        current = {
            (row.digest, row.item_id): row.positions
            for row in connection.execute(
                select(links.c.digest, links.c.item_id, links.c.positions).where(
                    links.c.item_id.in_(sorted(item.id for item in items))
                )
            )
        }
        wanted = {
            (digest, item.id): ",".join(str(p) for p in positions)
            for item, group in zip(items, groups, strict=True)
            for digest, positions in group.items()
        }
        stale = sorted(key for key in current if key not in wanted)
        touched = {digest for group in groups for digest in group} | {d for d, _ in stale}
        store.lock(connection, touched)  # every writer of these subjects waits
        self.at = store.story_time(connection, touched, self.now)
        self._store_labels(items, verified=verified)
        self._unlink(stale)
        self._link(wanted, current)
        claims = self._claim(items, groups)
        linked = self._linked({digest for group in groups for digest in group})
        self._flush_events()
        results = []
        for item, found, group in zip(items, identifiers, groups, strict=True):
            by_index: dict[int, Registration] = {}
            for digest, positions in group.items():
                claim, claimer = claims[digest]
                outcome = "new" if claimer == item.id else "already_owned"
                for index in positions:
                    by_index[index] = Registration(
                        subject=item.subject_key(index),
                        type=found[index].type,
                        outcome=outcome,
                        claim=claim,
                        items=linked.get(digest, ()),
                    )
            results.append(tuple(by_index[index] for index in sorted(by_index)))
        return results

    def _store_labels(self, items: Sequence[Item], *, verified: bool) -> None:
        """Insert new labels, update changed ones."""
        connection, table = self.connection, self.store.tables.items
        rows = {
            item.id: {
                "item_id": item.id,
                "label": seal_label(item, self.key),
                "label_verified": int(verified),
                "registered": self.at,
                "updated": self.at,
                "version": item.version,
            }
            for item in items
        }
        before = {
            row.item_id: (row.label, row.label_verified, row.version)
            for row in connection.execute(
                select(
                    table.c.item_id, table.c.label, table.c.label_verified, table.c.version
                ).where(table.c.item_id.in_(sorted(rows)))
            )
        }
        fresh = [row for item_id, row in sorted(rows.items()) if item_id not in before]
        if _bulk(connection, table, fresh) != len(fresh):
            raise Conflict  # registered at once by another writer: run again
        changed = [
            {
                "key": item_id,
                "label": row["label"],
                "verified": row["label_verified"],
                "v": row["version"],
            }
            for item_id, row in sorted(rows.items())
            if item_id in before
            and before[item_id] != (row["label"], row["label_verified"], row["version"])
        ]
        if changed:
            # The version guard keeps a newer label stored at once by another writer.
            connection.execute(
                update(table)
                .where(table.c.item_id == bindparam("key"), table.c.version <= bindparam("v"))
                .values(
                    label=bindparam("label"),
                    label_verified=bindparam("verified"),
                    version=bindparam("v"),
                    updated=self.at,
                ),
                changed,
            )

    def _unlink(self, stale: list[tuple[str, str]]) -> None:
        if not stale:
            return
        links = self.store.tables.links
        self.connection.execute(
            delete(links).where(
                links.c.digest == bindparam("d"), links.c.item_id == bindparam("i")
            ),
            [{"d": digest, "i": item_id} for digest, item_id in stale],
        )
        for digest, item_id in stale:
            self._event(digest, "unlink", item_id)

    def _link(
        self, wanted: dict[tuple[str, str], str], current: dict[tuple[str, str], str]
    ) -> None:
        connection, links = self.connection, self.store.tables.links
        fresh = [
            {
                "digest": digest,
                "item_id": item_id,
                "key_id": self.key_id,
                "positions": positions,
                "linked": self.at,
            }
            for (digest, item_id), positions in sorted(wanted.items())
            if (digest, item_id) not in current
        ]
        if fresh:
            if _bulk(connection, links, fresh) != len(fresh):
                raise Conflict  # linked at once by another writer: run again
            for row in fresh:
                self._event(str(row["digest"]), "link", str(row["item_id"]))
        moved = [
            {"d": digest, "i": item_id, "p": positions}
            for (digest, item_id), positions in sorted(wanted.items())
            if (digest, item_id) in current and current[(digest, item_id)] != positions
        ]
        if moved:
            connection.execute(
                update(links)
                .where(links.c.digest == bindparam("d"), links.c.item_id == bindparam("i"))
                .values(positions=bindparam("p")),
                moved,
            )

    def _claim(
        self, items: Sequence[Item], groups: Sequence[dict[str, list[int]]]
    ) -> dict[str, tuple[Claim, str | None]]:
        """The claim in force on each digest, and the item that claimed it in this batch."""
        store, connection, claims = self.store, self.connection, self.store.tables.claims
        first: dict[str, Item] = {}
        for item, group in zip(items, groups, strict=True):
            for digest in group:
                first.setdefault(digest, item)
        rows: dict[str, dict[str, object]] = {
            digest: {
                "digest": digest,
                "key_id": self.key_id,
                "owner_organisation": item.owner.organisation,
                "owner_unit": item.owner.unit,
                "owner_contact": item.owner.contact,
                "item_id": item.id,
                "since": self.at,
                "expires": expiry(self.at, self.period),
            }
            for digest, item in first.items()
        }
        # The subjects are locked (`Store.lock`): the claims read now stay as read.
        found = {
            row.digest: claim_of(row._mapping)
            for row in connection.execute(select(claims).where(claims.c.digest.in_(sorted(rows))))
        }
        won = sorted(set(rows) - set(found))  # digest order: one lock order for every writer
        if _bulk(connection, claims, [rows[digest] for digest in won]) != len(won):
            raise Conflict  # claimed at once by another writer: run again
        result: dict[str, tuple[Claim, str | None]] = {}
        for digest in won:
            self._event(digest, "claim", first[digest].id, first[digest].owner)
            result[digest] = (claim_of(rows[digest]), first[digest].id)
        others = sorted(found)
        # Lapsed claims are taken over in item order, each after the events that
        # registering the items one by one would have written before it.
        for digest in sorted(others, key=lambda d: (self.position[first[d].id], d)):
            existing = found.get(digest)
            if existing is None:  # released under us (the subject lock makes this rare)
                raise Conflict  # `run` runs the whole registration again
            if existing.live(self.at):
                result[digest] = (existing, None)
                continue
            self._flush_events(before=(self.position[first[digest].id], 2))
            taken = take_over_lapsed(
                store, connection, digest, existing, rows[digest], now=self.at, actor=self.actor
            )
            if taken is not None:
                result[digest] = (taken, first[digest].id)
                continue
            raise Conflict  # another writer changed the claim under us: run again
        return result

    def _linked(self, digests: set[str]) -> dict[str, tuple[str, ...]]:
        links = self.store.tables.links
        linked: dict[str, list[str]] = {}
        for row in self.connection.execute(
            select(links.c.digest, links.c.item_id)
            .where(links.c.digest.in_(sorted(digests)))
            .order_by(links.c.digest, links.c.item_id)
        ):
            linked.setdefault(row.digest, []).append(row.item_id)
        return {digest: tuple(ids) for digest, ids in linked.items()}

    def _flush_events(self, before: tuple[int, int] | None = None) -> None:
        """Write the waiting events (those placed before `before`), in one-by-one order."""
        ready = sorted(
            (entry for entry in self.events if before is None or entry[0] < before),
            key=lambda entry: entry[0],
        )
        if ready:
            _bulk(self.connection, self.store.tables.events, [row for _, row in ready])
        self.events = [entry for entry in self.events if before is not None and entry[0] >= before]


def newest_versions(connection: Connection, table: Table, ids: Sequence[str]) -> dict[str, int]:
    """The newest label version stored per item id (ids never registered are left out).

    Args:
        connection: a connection.
        table: the registry's items table.
        ids: the item ids.

    Returns:
        `item id -> version`.
    """
    found: dict[str, int] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), BATCH):
        chunk = unique[start : start + BATCH]
        for row in connection.execute(
            select(table.c.item_id, table.c.version).where(table.c.item_id.in_(chunk))
        ):
            found[row.item_id] = int(row.version)
    return found


def _bulk(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows (all with the same keys) in one executemany, skipping any whose key exists.

    Straight to the driver: SQLAlchemy's per-row parameter processing was most
    of a batch's time. Each column's bind processor (the `UTCDateTime`
    conversion) is applied here, as SQLAlchemy would.

    Returns:
        How many rows went in.
    """
    if not rows:
        return 0
    names = list(rows[0])
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608 (our own table and column names)
        f"VALUES ({', '.join(mark for _ in names)}) ON CONFLICT DO NOTHING"
    )
    # A batch's times are a few values (its time, its expiry): convert each once.
    converted: list[dict[Any, Any] | None] = [None if p is None else {} for p in processors]

    def value(index: int, raw: Any) -> Any:
        seen, processor = converted[index], processors[index]
        if seen is None or processor is None:
            return raw
        if raw not in seen:
            seen[raw] = processor(raw)
        return seen[raw]

    parameters = [
        tuple(value(index, row[name]) for index, name in enumerate(names)) for row in rows
    ]
    cursor = connection.exec_driver_sql(sql, parameters)
    return int(cursor.rowcount)
