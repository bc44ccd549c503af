"""Kept decisions per item stay bounded, and more readers than the bound do not empty them.

Whether a decision was kept is seen from outside: a kept decision is returned
again as the same object. No timing is asserted here (benchmarks/run.py times it).
"""

from __future__ import annotations

import datetime as dt

from dissemination import Principal, decide, load_policy, parse_item, parse_principal
from dissemination.decision import PAIRS_KEPT
from tests.oracle import decide_reference

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)

ITEM = {
    "id": "KEPT-1",
    "title": "Kept decisions",
    "created": "2026-11-20T09:14:00Z",
    "classification": "OFFICIAL",
    "originator": {"organisation": "border-force", "unit": "FIC Hull"},
    "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example.org"},
    "portions": [{"id": "p1", "category": "tearline", "text": "Examine on arrival."}],
}


def _readers(count: int) -> list[Principal]:
    return [
        parse_principal(
            {
                "id": f"reader-{number:04d}",
                "organisation": "border-force",
                "employment": "crown-servant",
                "nationality": "GBR",
                "vetting": {"level": "SC"},
            }
        )
        for number in range(count)
    ]


def test_more_readers_than_kept_still_find_kept_decisions() -> None:
    policy = load_policy()
    item = parse_item(ITEM)
    readers = _readers(2 * PAIRS_KEPT)
    first = [decide(reader, item, now=NOW, policy=policy) for reader in readers]
    for _ in range(3):  # readers take turns at the item, a screen each
        again = [decide(reader, item, now=NOW, policy=policy) for reader in readers]
    kept = sum(one is other for one, other in zip(first, again, strict=True))
    assert kept <= PAIRS_KEPT  # bounded
    assert kept >= PAIRS_KEPT // 2  # emptying the item on overflow kept none
    for reader, decision in zip(readers, again, strict=True):
        assert decision == decide_reference(reader, item, now=NOW, policy=policy)


def test_readers_who_do_not_come_back_give_way() -> None:
    policy = load_policy()
    item = parse_item(ITEM)
    for reader in _readers(PAIRS_KEPT):  # fill the item, then never come back
        decide(reader, item, now=NOW, policy=policy)
    newcomers = [
        reader.model_copy(update={"id": f"new-{number}"})
        for number, reader in enumerate(_readers(PAIRS_KEPT // 2))
    ]
    for _ in range(30):
        before = [decide(reader, item, now=NOW, policy=policy) for reader in newcomers]
    again = [decide(reader, item, now=NOW, policy=policy) for reader in newcomers]
    kept = sum(one is other for one, other in zip(before, again, strict=True))
    assert kept >= len(newcomers) // 2  # the departed readers' decisions made room
