"""Batch registration gives what registering the items one by one gives (issue 12, deliver 8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import IdentifierError, Item
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from tests.registry.support import AUDITOR, KEYS, NOW, item, reader

VALUES = ["MSCU1234566", "CSQU3054383", "TGHU9999995", "ABCU1234560"]
OWNERS = ["border-force", "nca"]


def _subjects(values: list[str]) -> list[dict[str, Any]]:
    return [{"type": "container", "value": value} for value in values]


def _state(registry: Registry) -> list[Any]:
    """Per subject: the claim, the linked items, the history's actions and items."""
    state = []
    for value in VALUES:
        identifier = normalise_value("container", value)
        history = registry.history(identifier, by=AUDITOR, now=NOW)
        claim = history.claim
        state.append(
            (
                (claim.owner, claim.item_id, claim.since, claim.expires) if claim else None,
                history.items,
                [(event.action, event.item_id, event.owner) for event in history.events],
                registry.lookup(identifier, reader(level="DV"), now=NOW).to_json(),
            )
        )
    return state


def _outcomes(registrations: tuple[Any, ...]) -> list[Any]:
    return [(r.subject, r.type, r.outcome, r.claim) for r in registrations]


@st.composite
def _batches(draw: st.DrawFn) -> list[Item]:
    """A sequence of items over a few subjects; ids repeat (a new version), owners differ."""
    items = []
    for _ in range(draw(st.integers(1, 6))):
        values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3))
        items.append(
            item(
                f"IT-{draw(st.integers(1, 4))}",
                _subjects(values),
                owner=draw(st.sampled_from(OWNERS)),
            )
        )
    return items


@settings(max_examples=40, deadline=None)
@given(earlier=_batches(), batch=_batches())
def test_a_batch_registers_as_the_items_one_by_one(
    tmp_path_factory: Any, earlier: list[Item], batch: list[Item]
) -> None:
    directory: Path = tmp_path_factory.mktemp("many")
    later = NOW + dt.timedelta(days=200)  # past the claim period: some claims have lapsed
    with (
        Registry(f"sqlite:///{directory / 'one.sqlite'}", keys=KEYS, upgrade=True) as one,
        Registry(f"sqlite:///{directory / 'many.sqlite'}", keys=KEYS, upgrade=True) as many,
    ):
        for registry in (one, many):
            for earlier_item in earlier:
                registry.register(earlier_item, now=NOW)
        singly = [one.register(batch_item, now=later) for batch_item in batch]
        together = many.register_many(batch, now=later)
        assert [_outcomes(r) for r in together] == [_outcomes(r) for r in singly]
        assert _state(many) == _state(one)


def test_a_batch_is_all_or_nothing(registry: Registry) -> None:
    bad = item("IT-2", [{"type": "container", "value": "MSCU1234567"}])  # wrong check digit
    with pytest.raises(IdentifierError):
        registry.register_many([item("IT-1", _subjects(VALUES[:1])), bad], now=NOW)
    assert not registry.lookup(normalise_value("container", VALUES[0]), reader(), now=NOW).found


def test_a_large_batch_links_every_item(registry: Registry) -> None:
    items = [item(f"IT-{index:04d}", _subjects(VALUES[:2])) for index in range(1200)]
    results = registry.register_many(items, now=NOW)
    assert [r.outcome for r in results[0]] == ["new", "new"]
    assert {r.outcome for result in results[1:] for r in result} == {"already_owned"}
    answer = registry.lookup(normalise_value("container", VALUES[1]), reader(), now=NOW, limit=1000)
    assert len(answer.items) == 1000
    assert answer.next == "IT-0999"
    assert registry.history(
        normalise_value("container", VALUES[1]), by=AUDITOR, now=NOW
    ).items == tuple(i.id for i in items)


def test_an_item_without_subjects_registers_and_links_nothing(registry: Registry) -> None:
    # An empty batch of rows must not reach the database (main was red: an empty
    # `INSERT ... ON CONFLICT` raised, tests/service/test_registry_api.py).
    lone = item("IT-LONE", [])
    assert registry.register(lone, now=NOW) == ()
    assert registry.register_many([lone, item("IT-2", _subjects(VALUES[:1]))], now=NOW)[0] == ()
    assert registry.register_many([], now=NOW) == ()
