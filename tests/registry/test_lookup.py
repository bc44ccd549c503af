"""Lookups go through the policy and leak nothing (issue 3, deliverable 5; DESIGN §5)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import Item, Principal, View, decide, default_policy, parse_item
from dissemination.identifiers import normalise_value
from dissemination.models import Owner
from dissemination.redaction import shown_conditions
from dissemination.registry import Registry
from dissemination.registry.labels import BLANK, item_label, open_label, seal_label
from tests.registry.support import AUDITOR, FIC, KEYS, NOW, container, item, reader
from tests.strategies import item_data, principals

CONTAINER = normalise_value("container", "MSCU1234566")
UNKNOWN = normalise_value("container", "CSQU3054383")


def _bytes(answer: Any) -> bytes:
    return json.dumps(answer.to_json(), sort_keys=True).encode()


def _unknown_bytes(registry: Registry, who: Principal) -> bytes:
    """The answer for an identifier never registered, made to look like CONTAINER."""
    answer = registry.lookup(UNKNOWN, who, now=NOW).to_json()
    answer["identifier"] = CONTAINER.canonical
    return json.dumps(answer, sort_keys=True).encode()


def test_an_unknown_identifier_gets_an_empty_answer(registry: Registry) -> None:
    answer = registry.lookup(UNKNOWN, reader(), now=NOW)
    assert not answer.found
    assert answer.to_json() == {
        "type": "container",
        "identifier": "CSQU3054383",
        "owner": None,
        "since": None,
        "expires": None,
        "items": [],
    }


def test_a_reader_who_may_see_the_item_learns_the_owner(registry: Registry) -> None:
    registry.register(item("IT-1", [container()]), now=NOW)
    answer = registry.lookup(CONTAINER, reader(level="SC"), now=NOW).to_json()
    assert answer["owner"] == {
        "organisation": "border-force",
        "unit": "FIC Hull",
        "contact": "FIC Hull@example.gov.uk",
    }
    assert answer["since"] == "2026-11-27T10:00:00Z"
    [linked] = answer["items"]
    assert linked["item"] == "IT-1"
    assert linked["view"] == "full"
    assert linked["classification"] == "OFFICIAL-SENSITIVE"


def test_a_pointer_reader_gets_the_pointer_and_nothing_of_the_content(registry: Registry) -> None:
    registry.register(
        item("IT-1", [container()], handling=[{"kind": "releasable_to", "organisations": ["nca"]}]),
        now=NOW,
    )
    hmrc = reader(organisation="hmrc", level="DV")
    answer = registry.lookup(CONTAINER, hmrc, now=NOW)
    [linked] = answer.items
    assert linked.view is View.POINTER
    assert set(linked.to_json()) == {"item", "view", "created", "owner", "linked", "referral"}
    assert linked.to_json()["referral"] == "refer to owner"
    text = json.dumps(answer.to_json())
    for withheld in ("QXJTITLE", "QXJTEARLINE", "QXJSOURCE", "OFFICIAL", "releasable"):
        assert withheld not in text


@pytest.mark.parametrize(
    "handling",
    [
        [{"kind": "recipients_only", "principals": ["someone-else"]}],
        [{"kind": "eyes_only", "nationalities": ["USA"]}],
    ],
)
def test_items_at_none_answer_exactly_as_an_unknown_identifier(
    registry: Registry, handling: list[dict[str, Any]]
) -> None:
    hidden = item("IT-1", [container()], handling=handling)
    registry.register(hidden, now=NOW)
    who = reader(level="eDV")
    assert decide(who, hidden, now=NOW).view is View.NONE
    assert _bytes(registry.lookup(CONTAINER, who, now=NOW)) == _unknown_bytes(registry, who)
    # The item is registered: the answer hides it, not an empty registry.
    assert registry.history(CONTAINER, by=AUDITOR, now=NOW).items == ("IT-1",)


def test_a_marked_subject_is_hidden_from_those_below_its_marking(registry: Registry) -> None:
    registry.register(item("IT-1", [container(marking={"min_vetting": "DV"})]), now=NOW)
    sc = reader(level="SC")
    # The reader sees the item itself (at full, less the subject)...
    assert decide(sc, item("IT-1", [container(marking={"min_vetting": "DV"})]), now=NOW).view >= (
        View.POINTER
    )
    # ...but may not know it concerns this container.
    assert _bytes(registry.lookup(CONTAINER, sc, now=NOW)) == _unknown_bytes(registry, sc)
    assert registry.lookup(CONTAINER, reader(level="DV"), now=NOW).found
    # At pointer a subject's own marking cannot be established: fail closed.
    agency = reader(level=None, organisation="hmrc")
    assert not registry.lookup(CONTAINER, agency, now=NOW).found


def test_the_owner_is_told_only_through_the_item_the_claim_rests_on(registry: Registry) -> None:
    # The claim rests on IT-1, which this reader may not know of; IT-2 they see.
    registry.register(
        item("IT-1", [container()], handling=[{"kind": "eyes_only", "nationalities": ["USA"]}]),
        now=NOW,
    )
    registry.register(item("IT-2", [container()], owner="nca", unit="OCG"), now=NOW)
    answer = registry.lookup(CONTAINER, reader(level="SC"), now=NOW)
    assert answer.claim is None
    assert [linked.item_id for linked in answer.items] == ["IT-2"]
    assert "IT-1" not in json.dumps(answer.to_json())
    us = reader(level="SC", nationality="USA")
    assert registry.lookup(CONTAINER, us, now=NOW).claim is not None


def test_a_transferred_claim_names_the_new_owner(registry: Registry) -> None:
    registry.register(item("IT-1", [container()]), now=NOW)
    nca = Owner(organisation="nca", unit="OCG", contact="ocg@example.gov.uk")
    registry.transfer(CONTAINER, nca, now=NOW, by=FIC, reason="hand-off")
    answer = registry.lookup(CONTAINER, reader(), now=NOW)
    assert answer.claim is not None
    assert answer.claim.owner == nca


def test_a_lapsed_claim_is_not_an_owner(database: tuple[str, str]) -> None:
    url, prefix = database
    with Registry(
        url, keys=KEYS, table_prefix=prefix, claim_period=dt.timedelta(days=1), upgrade=True
    ) as reg:
        reg.register(item("IT-1", [container()]), now=NOW)
        answer = reg.lookup(CONTAINER, reader(), now=NOW + dt.timedelta(days=2))
        assert answer.claim is None
        assert [linked.item_id for linked in answer.items] == ["IT-1"]


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=item_data(), who=principals())
def test_the_stored_label_decides_as_the_item_does(data: dict[str, Any], who: Principal) -> None:
    original = parse_item(data)
    label = item_label(original)
    on_item = decide(who, original, now=NOW)
    on_label = decide(who, label, now=NOW)
    assert on_label.view == on_item.view
    # The label keeps every subject (sealed, see `labels`): the same subjects
    # are shown, and the conditions are masked exactly as the item's are.
    assert on_label.subjects == on_item.subjects
    assert shown_conditions(on_label) == shown_conditions(on_item)
    # Only the reasons for masking the title or a portion (blanked) differ.
    assert [r for r in on_label.reasons if not r.rule.startswith("mask.")] == [
        r for r in on_item.reasons if not r.rule.startswith("mask.")
    ]
    assert on_label.caveats == on_item.caveats
    assert on_label.obligations == on_item.obligations
    positions = [int(pid.removeprefix("p")) - 1 for pid in on_label.portions]
    assert [original.portions[p].id for p in positions] == list(on_item.portions)


@settings(max_examples=100, deadline=None)
@given(data=item_data())
def test_the_stored_label_holds_no_content_and_no_identifier(data: dict[str, Any]) -> None:
    original = parse_item(data)
    stored = seal_label(original, KEYS.keys[0])
    for portion in original.portions:
        assert portion.text not in stored
    for subject in original.subjects:
        assert str(getattr(subject, "value", None) or getattr(subject, "name", "")) not in stored
    assert original.title not in stored
    if original.grading is not None and original.grading.conditions:
        assert original.grading.conditions not in stored
    assert seal_label(original, KEYS.keys[0]) == stored  # the same label, the same text
    restored = open_label(stored, original.id, KEYS, policy=default_policy())
    assert restored is not None
    assert restored.title == BLANK
    assert restored.subjects == original.subjects
    assert open_label(stored, "another-item", KEYS, policy=default_policy()) is None


@st.composite
def _registered(draw: st.DrawFn) -> tuple[Item, Principal]:
    data = draw(item_data())
    mark = data["subjects"][0].get("marking") if data["subjects"] else None
    subject: dict[str, Any] = {"type": "container", "value": "MSCU1234566"}
    if mark is not None:
        subject["marking"] = mark
    # The other subjects become `other` (any text is a valid identifier), keeping
    # their tagged texts and markings so that a leak of them would show.
    others = []
    for other in data["subjects"][1:]:
        kept: dict[str, Any] = {"type": "other", "value": other.get("value") or other["name"]}
        if "marking" in other:
            kept["marking"] = other["marking"]
        others.append(kept)
    data["subjects"] = [subject, *others]
    return parse_item(data), draw(principals())


@settings(max_examples=100, deadline=None)
@given(case=_registered())
def test_lookup_leaks_nothing_a_decision_withholds(case: tuple[Item, Principal]) -> None:
    original, who = case
    with (
        tempfile.TemporaryDirectory() as directory,
        Registry(f"sqlite:///{directory}/registry.sqlite", keys=KEYS, upgrade=True) as registry,
    ):
        registry.register(original, now=NOW)
        answer = registry.lookup(CONTAINER, who, now=NOW)
        unknown = _unknown_bytes(registry, who)
    text = json.dumps(answer.to_json())
    for portion in original.portions:
        assert portion.text not in text
    assert original.title not in text
    for subject in original.subjects[1:]:
        assert str(getattr(subject, "value", None) or getattr(subject, "name", "")) not in text
    decision = decide(who, original, now=NOW)
    marked = original.subjects[0].marking is not None
    if decision.view is View.NONE or (marked and 0 not in decision.subjects):
        assert _bytes(answer) == unknown
    else:
        [linked] = answer.items
        assert linked.view == decision.view
        assert answer.claim is not None
