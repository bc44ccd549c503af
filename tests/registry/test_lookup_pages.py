"""Lookup pages, and the decoys that keep hidden and unknown subjects alike (issue 10.7, 12.8)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from stdnum import iso6346

from dissemination import Decision, Item
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from tests.registry.support import NOW, container, item, reader

CONTAINER = normalise_value("container", "MSCU1234566")
OTHER = normalise_value("container", "CSQU3054383")
HIDDEN = [{"kind": "recipients_only", "principals": ["someone-else"]}]


def _register(registry: Registry, visible: list[str], hidden: list[str]) -> None:
    for item_id in visible:
        registry.register(item(item_id, [container()]), now=NOW)
    for item_id in hidden:
        registry.register(item(item_id, [container()], handling=HIDDEN), now=NOW)


def test_pages_walk_every_visible_item_in_order_and_skip_hidden_ones(registry: Registry) -> None:
    _register(registry, ["IT-1", "IT-3", "IT-4", "IT-6", "IT-7"], ["IT-2", "IT-5", "IT-8"])
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        answer = registry.lookup(CONTAINER, reader(), now=NOW, after=after, limit=2)
        pages += 1
        seen.extend(linked.item_id for linked in answer.items)
        assert len(answer.items) <= 2
        if answer.next is None:
            break
        assert answer.next == answer.items[-1].item_id
        after = answer.next
    assert seen == ["IT-1", "IT-3", "IT-4", "IT-6", "IT-7"]
    assert pages == 3
    whole = registry.lookup(CONTAINER, reader(), now=NOW)
    assert [linked.item_id for linked in whole.items] == seen
    assert whole.next is None
    assert "next" not in whole.to_json()


def test_the_claim_is_told_on_every_page(registry: Registry) -> None:
    _register(registry, ["IT-1", "IT-2", "IT-3"], [])
    later = registry.lookup(CONTAINER, reader(), now=NOW, after="IT-2", limit=1)
    assert [linked.item_id for linked in later.items] == ["IT-3"]
    assert later.claim is not None
    assert later.claim.item_id == "IT-1"


def test_a_page_out_of_range_is_refused(registry: Registry) -> None:
    with pytest.raises(ValueError, match="page"):
        registry.lookup(CONTAINER, reader(), now=NOW, limit=0)


def test_a_full_page_of_hidden_followers_tells_nothing(registry: Registry) -> None:
    # A full page always carries `next`, so whether hidden links follow is not told.
    _register(registry, ["IT-1", "IT-2"], ["IT-3", "IT-4"])
    first = registry.lookup(CONTAINER, reader(), now=NOW, limit=2)
    assert first.next == "IT-2"
    rest = registry.lookup(CONTAINER, reader(), now=NOW, after=first.next, limit=2)
    assert rest.items == ()
    assert rest.next is None


def test_decoys_are_judged_but_never_shown_or_recorded(registry: Registry) -> None:
    # The only registered subject is visible to the reader: a lookup of an unknown
    # subject judges it as its decoy, and must neither show nor record it.
    _register(registry, ["IT-1"], [])
    recorded: list[tuple[Item, Decision]] = []

    def record(label: Item, decision: Decision) -> Any:
        recorded.append((label, decision))

    answer = registry.lookup(OTHER, reader(), now=NOW, record=record)
    assert not answer.found
    assert recorded == []
    registry.lookup(CONTAINER, reader(), now=NOW, record=record)
    assert [label.id for label, _ in recorded] == ["IT-1"]


def test_a_hidden_subject_answers_as_an_unknown_one_with_decoys_about(registry: Registry) -> None:
    _register(registry, ["IT-1"], [])
    hidden = normalise_value("container", "CSQU3054383")
    registry.register(
        item("IT-9", [{"type": "container", "value": "CSQU3054383"}], handling=HIDDEN), now=NOW
    )
    unknown = normalise_value("container", "TGHU999999" + iso6346.calc_check_digit("TGHU999999"))
    a = registry.lookup(hidden, reader(), now=NOW).to_json()
    b = registry.lookup(unknown, reader(), now=NOW).to_json()
    a.pop("identifier")
    b.pop("identifier")
    assert a == b


def test_a_lookup_is_one_read_that_locks_and_writes_nothing(registry: Registry) -> None:
    # Issue 12, deliver 8: a lookup read the key chain `FOR SHARE` (a write on
    # PostgreSQL). Now the first page, hidden or not, is one SELECT.
    _register(registry, ["IT-1", "IT-2"], ["IT-3"])
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    engine = registry._store.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for subject in (CONTAINER, OTHER):
            statements.clear()
            registry.lookup(subject, reader(), now=NOW)
            queries = [s for s in statements if not s.startswith(("BEGIN", "SELECT 1"))]
            assert len(queries) == 1, queries
            (query,) = queries
            assert query.startswith("SELECT")
            for word in ("FOR SHARE", "FOR UPDATE", "INSERT", "UPDATE ", "DELETE"):
                assert word not in query
    finally:
        event.remove(engine, "before_cursor_execute", seen)
