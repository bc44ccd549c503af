# ruff: noqa: S608 -- the SQL below is built from our own table names (`database.make_tables`);
# every value is a bound parameter.
"""Reading what a lookup decides on, in one statement whose work hides what is hidden.

The policy filter itself is pure and lives in `answers`; this module reads the
rows and hands every one of them to `answers.judge`.

**One read, no lock.** A lookup is one `SELECT` (a few `UNION ALL` branches):
the key chain, the claim, the link the claim rests on, and the first page of
links, each link with its sealed label. A single statement sees one snapshot
on both databases, so it needs no `FOR SHARE` and writes nothing (issue 12,
deliverable 8); a re-key between two lookups is seen in the key chain the
statement returns, and the lookup is run again under the new depth.

**The same work for a hidden subject as for an unknown one** (issue 10,
item 7). A subject whose linked items are all at `none` for the reader gets
the answer an unknown subject gets; it must also take the same time. So the
statement reads the asked subject's claim, claim link and page when it has
them, and otherwise a *decoy's*: the subject whose digest follows the asked
digest (digests are uniform, so this is a random subject, and the same one
each time the same identifier is asked), its claim, claim link and first
link. Either way the statement returns the same rows (one claim, one claim
link, one page row for a subject with one link), and the same number of
labels are opened and decided, through the same code; the decoy's results
are dropped unseen and never recorded. What still differs is the number of
links beyond the first (docs/registry.md, "Lookup timing").

**No label is kept between lookups.** Each lookup opens (decrypts and
validates) the labels it reads, once each. A label kept from an earlier lookup
would make a subject looked up before faster than one never looked up, and
the decoy of an unknown subject is not the subject an attacker chose: the
cache's state would tell hidden from unknown (measured: 68% with a cache,
see docs/registry.md). A page is at most `limit` labels, so a subject with
many links costs a page of openings, not all of them.

**Pages.** At most `limit` contributing items are returned, in item id order,
from `after`; a full page carries `next`, whether or not more follow (so the
cursor says nothing of hidden links after the page).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import TextualSelect, text
from sqlalchemy.engine import Connection, Row

from dissemination.decision import Decision
from dissemination.errors import RegistryError
from dissemination.identifiers import NormalisedIdentifier
from dissemination.models import Item, Principal
from dissemination.policy import Policy, default_policy
from dissemination.registry.answers import (
    LookupAnswer,
    Shown,
    StoredLink,
    assemble,
    judge,
)
from dissemination.registry.database import Tables, UTCDateTime
from dissemination.registry.keys import KeyRing, chain_matches
from dissemination.registry.labels import open_label
from dissemination.registry.store import Store, Subject, aware, claim_of, identifier_of

__all__ = ["DEFAULT_PAGE", "lookup"]

DEFAULT_PAGE: Final = 50
"""The most linked items one lookup answer lists (`LookupAnswer.next` pages on)."""

MAX_PAGE: Final = 1000
"""The largest page a caller may ask for."""

_CHAIN, _CLAIM, _CLAIM_LINK, _PAGE = 4, 0, 3, 2

_statements: dict[tuple[str, str, bool], TextualSelect] = {}
_depths: dict[tuple[str, str, tuple[str, ...]], tuple[str, int]] = {}

_LINK = "l.digest, l.item_id, l.positions, l.linked, i.label, i.label_verified"
_NO_TIME = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"  # PostgreSQL types an untyped NULL as text
_NO_CLAIM = f"NULL, NULL, NULL, {_NO_TIME}, {_NO_TIME}"


def _statement(tables: Tables, dialect: str, *, first: bool) -> TextualSelect:
    """The lookup's one statement (`first`), or the statement of a following chunk of links."""
    key = (tables.items.name, dialect, first)
    statement = _statements.get(key)
    if statement is not None:
        return statement
    links, items = tables.links.name, tables.items.name
    claims, meta = tables.claims.name, tables.meta.name
    join = f"{links} l JOIN {items} i ON i.item_id = l.item_id"
    page = (
        f"SELECT * FROM (SELECT {_PAGE} AS kind, {_LINK}, {_NO_CLAIM} FROM {join} "
        f"WHERE l.digest = :digest AND l.item_id > :after ORDER BY l.item_id LIMIT :chunk) p"
    )
    if first:
        # The subject whose rows are read: the asked one when it has a claim (links),
        # else the decoy: the one whose digest follows (or the first, past the last).
        def chosen(table: str) -> str:
            return (
                f"COALESCE((SELECT digest FROM {table} WHERE digest = :digest LIMIT 1), "
                f"(SELECT digest FROM {table} WHERE digest > :digest ORDER BY digest LIMIT 1), "
                f"(SELECT MIN(digest) FROM {table}))"
            )

        claimed, linked = chosen(claims), chosen(links)
        sql = " UNION ALL ".join(
            [
                f"SELECT {_CHAIN} AS kind, NULL AS digest, NULL AS item_id, NULL AS positions, "
                f"{_NO_TIME} AS linked, value AS label, CAST(NULL AS INTEGER) AS label_verified, "
                "NULL AS owner_organisation, NULL AS owner_unit, NULL AS owner_contact, "
                f"{_NO_TIME} AS since, {_NO_TIME} AS expires FROM {meta} WHERE name = 'keys'",
                f"SELECT {_CLAIM}, c.digest, c.item_id, NULL, NULL, NULL, NULL, "
                "c.owner_organisation, c.owner_unit, c.owner_contact, c.since, c.expires "
                f"FROM {claims} c WHERE c.digest = {claimed}",
                f"SELECT {_CLAIM_LINK}, {_LINK}, {_NO_CLAIM} FROM {claims} c "
                f"JOIN {links} l ON l.digest = c.digest AND l.item_id = c.item_id "
                f"JOIN {items} i ON i.item_id = l.item_id WHERE c.digest = {claimed}",
                # A decoy's page is its first link only: as many rows as one link.
                f"SELECT * FROM (SELECT {_PAGE} AS kind, {_LINK}, {_NO_CLAIM} FROM {join} "
                f"WHERE l.digest = {linked} AND l.item_id > :after ORDER BY l.item_id "
                f"LIMIT CASE WHEN {linked} = :digest THEN :chunk ELSE 1 END) p",
            ]
        )
    else:
        sql = page
    # One type for each parameter wherever it is used (PostgreSQL deduces one per use).
    sql = sql.replace(":digest", "CAST(:digest AS VARCHAR(64))")
    sql = sql.replace(":after", "CAST(:after AS VARCHAR(128))")
    statement = text(sql).columns(linked=UTCDateTime(), since=UTCDateTime(), expires=UTCDateTime())
    _statements[key] = statement
    return statement


Opened = dict[tuple[str, str], Item | None]
"""The labels one lookup has opened, by item id and sealed text (and nothing kept after it)."""


def _stored(row: Row[Any], keys: KeyRing, policy: Policy, opened: Opened) -> StoredLink:
    key = (row.item_id, row.label)
    if key in opened:
        label = opened[key]
    else:
        label = opened[key] = open_label(row.label, row.item_id, keys, policy=policy)
    return StoredLink(
        item_id=row.item_id,
        label=label,
        positions=tuple(int(part) for part in row.positions.split(",") if part),
        linked=row.linked,
        label_verified=bool(row.label_verified),
    )


def _depth(store: Store, chain: str) -> int:
    """The depth of the registry's key chain, checked against this process's keys."""
    key = (store.url, store.tables.meta.name, store.keys.ids)
    known = _depths.get(key)
    if known is not None and known[0] == chain:
        return known[1]
    recorded = json.loads(chain)
    depth = chain_matches(store.keys, [(entry["id"], entry["check"]) for entry in recorded])
    _depths[key] = (chain, depth)
    return depth


def _guess_depth(store: Store) -> int:
    key = (store.url, store.tables.meta.name, store.keys.ids)
    known = _depths.get(key)
    return known[1] if known is not None else len(store.keys.ids)


def lookup(
    store: Store,
    subject: Subject,
    reader: Principal,
    *,
    now: dt.datetime,
    policy: Policy | None,
    record: Callable[[Item, Decision], object] | None = None,
    after: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> LookupAnswer:
    """Who owns intelligence on `subject`, as far as `reader` may know (see `Registry.lookup`).

    Args:
        store: the registry's store.
        subject: a subject, or an identifier from `identifiers.normalise_value`.
        reader: who asks.
        now: the time of the lookup, with a zone.
        policy: the profile to decide by (the embedded default when None).
        record: records what the answer shows of each item (see `answers.assemble`).
        after: the `next` of the previous page (None: the first page).
        limit: the most linked items in the answer (1 to `MAX_PAGE`).

    Returns:
        The answer.

    Raises:
        IdentifierError: the subject's identifier cannot be right.
        RegistryError: a database error.
        RegistryKeyError: the registry was re-keyed with keys this process lacks.
        TrailError: `record` could not write the disclosure trail (no answer).
        ValueError: `limit` is out of range.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"a lookup page holds 1 to {MAX_PAGE} items")
    now = aware(now)
    identifier = identifier_of(subject)
    policy = policy if policy is not None else default_policy()
    depth = _guess_depth(store)
    while True:
        digest = store.digest(identifier, depth)
        rows = store.run(_first(store, digest, after or "", limit), write=False)
        chains = [row.label for row in rows if row.kind == _CHAIN]
        if not chains:
            raise RegistryError("the registry records no keys", target=store.url)
        actual = _depth(store, chains[0])
        if actual == depth:
            break
        depth = actual  # re-keyed since this process last looked: ask again
    return _answer(store, identifier, digest, rows, reader, now, policy, record, limit)


def _rows(
    store: Store, digest: str, after: str, limit: int, *, first: bool
) -> Callable[[Connection], list[Row[Any]]]:
    def work(connection: Connection) -> list[Row[Any]]:
        statement = _statement(store.tables, connection.dialect.name, first=first)
        parameters = {"digest": digest, "after": after, "chunk": limit}
        return list(connection.execute(statement, parameters))

    return work


def _first(
    store: Store, digest: str, after: str, limit: int
) -> Callable[[Connection], list[Row[Any]]]:
    return _rows(store, digest, after, limit, first=True)


def _answer(  # noqa: PLR0917 (private: the pieces of one lookup)
    store: Store,
    identifier: NormalisedIdentifier,
    digest: str,
    rows: Sequence[Row[Any]],
    reader: Principal,
    now: dt.datetime,
    policy: Policy,
    record: Callable[[Item, Decision], object] | None,
    limit: int,
) -> LookupAnswer:
    keys = store.keys
    opened: Opened = {}
    claim_row = next((row for row in rows if row.kind == _CLAIM), None)
    claim_link = next((row for row in rows if row.kind == _CLAIM_LINK), None)
    page = sorted((row for row in rows if row.kind == _PAGE), key=lambda row: row.item_id)

    # The claim: the asked subject's, else the decoy's, judged alike (the decoy's dropped).
    claim = claim_of(claim_row._mapping) if claim_row is not None else None
    claim_judged = (
        judge(_stored(claim_link, keys, policy, opened), reader, now=now, policy=policy)
        if claim_link is not None
        else None
    )
    if claim_row is None or claim_row.digest != digest:
        claim, claim_judged = None, None

    # The links: the asked subject's page, else the decoy's first link (judged and dropped).
    judged = [
        judge(_stored(row, keys, policy, opened), reader, now=now, policy=policy) for row in page
    ]
    real = bool(page) and page[0].digest == digest
    shown: list[Shown] = [entry for entry in judged if entry is not None] if real else []
    page = page if real else []
    more_rows = len(page) == limit
    cursor = page[-1].item_id if page else ""
    while len(shown) < limit and more_rows:
        following = store.run(_rows(store, digest, cursor, limit, first=False), write=False)
        for row in following:
            entry = judge(_stored(row, keys, policy, opened), reader, now=now, policy=policy)
            if entry is not None:
                shown.append(entry)
        more_rows = len(following) == limit
        cursor = following[-1].item_id if following else cursor
    shown = shown[:limit]
    after = shown[-1][0].item_id if len(shown) == limit else None
    return assemble(
        identifier,
        claim,
        shown,
        now=now,
        claim_shown=claim_judged is not None,
        record=record,
        after=after,
    )
