"""Masking evasion (issue 10 item 2): a withheld value disguised in the text is still masked.

The forms people (and tools) write a value in go beyond spacing and case:
Unicode format characters inside it, decomposed accents, compatibility forms,
URL percent-encoding, HTML entities and tags, spelled-out e-mail punctuation,
other punctuation as separators and more ways of writing a date of birth.
The property draws a random combination of those classes for every subject
type, inside random prose, and checks the JSON and text renderings once they
are normalised the way a reader's tools would show them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import Decision, Item, decide, parse_item, parse_principal, render
from dissemination import render_text as text_of
from tests.strategies import (
    NOW,
    compact,
    evasive_mentions,
    normalised_for_leaks,
    unrelated_text,
)

TYPES = [
    "vehicle",
    "container",
    "phone",
    "email",
    "person",
    "passport",
    "vessel",
    "organisation",
    "other",
]
READER = parse_principal(
    {
        "id": "reader-sc",
        "organisation": "border-force",
        "employment": "crown-servant",
        "nationality": "GBR",
        "vetting": {"level": "SC"},
    }
)


def _item(subject: dict[str, Any], text: str) -> Item:
    return parse_item(
        {
            "id": "IT-EVADE",
            "title": text,
            "created": "2026-11-20T09:14:00Z",
            "classification": "OFFICIAL",
            "required_vetting": "SC",
            "originator": {"organisation": "border-force", "unit": "unit-a"},
            "owner": {"organisation": "border-force", "unit": "unit-a", "contact": "o@example.org"},
            "grading": {
                "source": "2",
                "intelligence": "B",
                "handling_code": "C",
                "conditions": text,
            },
            "subjects": [{**subject, "marking": {"min_vetting": "DV"}}],
            "portions": [{"id": "p1", "category": "tearline", "text": text}],
        }
    )


def _strings(value: Any) -> Iterator[str]:
    """Every string value in a rendered JSON document (its keys are the schema's)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _outputs(item: Item, decision: Decision) -> list[str]:
    document = render(item, decision)
    document.pop("policy")  # the policy digest: hex, not from the item
    return [*_strings(document), text_of(item, decision)]


@pytest.mark.parametrize("kind", TYPES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_disguised_withheld_value_never_leaks(kind: str, data: st.DataObject) -> None:
    subject, written, secrets, _ = data.draw(evasive_mentions(kind))
    before, after = data.draw(unrelated_text), data.draw(unrelated_text)
    item = _item(subject, f"{before} {written} {after}")
    decision = decide(READER, item, now=NOW)
    for output in _outputs(item, decision):
        seen = compact(normalised_for_leaks(output))
        for secret in secrets:
            assert secret not in seen, (kind, written)
