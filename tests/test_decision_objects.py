"""What a Decision says about itself and what a reader at `pointer` learns (issue 10 items 3, 5)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings

from dissemination import Decision, View, decide, parse_item, parse_principal, render
from dissemination import render_text as text_of
from dissemination.decision import Reason, Withheld
from dissemination.masking import Edit, TextMask
from dissemination.policy import default_policy
from dissemination.tooling.whocansee import explain_decision
from tests.oracle import decide_reference
from tests.strategies import NOW, item_data, item_doc, principals, reader_doc

MARKER = "SECRETQZXMARKER"

_CAPPED = item_doc(
    id="IT-CAPPED",
    handling=[
        {"kind": "releasable_to", "organisations": ["border-force"]},
        {"kind": "need_to_know", "groups": ["OP-KESTREL"]},
        {"kind": "originator_consent"},
        {"kind": "embargo", "until": "2027-01-01T00:00:00Z"},
    ],
)
_OUTSIDER = parse_principal(reader_doc(id="r-nca", organisation="nca"))


def test_a_reader_at_pointer_reads_one_plain_reason() -> None:
    item = parse_item(_CAPPED)
    for decided in (decide, decide_reference):
        decision = decided(_OUTSIDER, item, now=NOW)
        assert decision.view is View.POINTER
        assert [reason.rule for reason in decision.reasons] == ["view.pointer"]
        assert decision.reasons[0].text.endswith("refer to the originator")
        rendered = render(item, decision)
        assert [reason["rule"] for reason in rendered["reasons"]] == ["view.pointer"]
        text = text_of(item, decision)
        assert text.count("Why:") == 1
        for kind in ("releasable", "need", "group", "consent", "embargo", "organisation"):
            assert kind not in json.dumps(rendered["reasons"]).lower()
            assert kind not in text.lower().replace("refer to the originator", "")
        # Operators keep the whole list: the rules, and explain's reasons.
        assert {"cap.releasable_to", "cap.need_to_know", "cap.embargo"} <= set(decision.rules)
        explained = explain_decision(item, decision, default_policy())
        assert [reason["rule"] for reason in explained["reasons"]] == list(decision.rules)
        assert len(explained["reasons"]) >= 4


def test_pointer_without_consent_refers_to_the_owner() -> None:
    item = parse_item(item_doc(handling=[{"kind": "need_to_know", "groups": ["OP-KESTREL"]}]))
    decision = decide(parse_principal(reader_doc()), item, now=NOW)
    assert decision.view is View.POINTER
    assert decision.reasons[0].text.endswith("refer to its owner for what you may be told")
    assert decision.rules == ("cap.need_to_know",)


def test_views_above_pointer_keep_their_reasons() -> None:
    decision = decide(parse_principal(reader_doc()), parse_item(item_doc()), now=NOW)
    assert decision.view is View.FULL
    assert decision.explanation == ()
    assert decision.full_reasons == decision.reasons
    assert decision.rules == tuple(reason.rule for reason in decision.reasons)


def _every_field_marked() -> Decision:
    reason = Reason(f"rule.{MARKER}", f"because {MARKER}")
    return Decision(
        item_id=f"IT-{MARKER}",
        reader_id=f"r-{MARKER}",
        view=View.FULL,
        portions=(f"p-{MARKER}",),
        subjects=(0,),
        conditions=(f"Do not approach {MARKER}",),
        caveats=(MARKER,),
        obligations=(MARKER,),
        reasons=(reason,),
        policy=MARKER,
        facts=frozenset({MARKER}),
        withheld=(Withheld("subject", MARKER, MARKER),),
        masks=(TextMask("portion", MARKER, 3, (Edit(0, 1, MARKER),), (MARKER,)),),
        explanation=(reason,),
    )


def test_repr_and_str_carry_no_field_of_the_decision() -> None:
    decision = _every_field_marked()
    for shown in (repr(decision), str(decision), f"{decision}", f"{decision!r}"):
        assert MARKER not in shown
        assert "view=full" in shown
    assert "conditions=1" in repr(decision)


@settings(max_examples=150, deadline=None)
@given(data=item_data(), reader=principals())
def test_repr_of_a_decision_names_nothing_of_the_item(data: dict[str, Any], reader: Any) -> None:
    """Every text of a generated item is tagged and unique: none may be in the repr."""
    if "grading" in data and data["grading"].get("conditions"):
        data["grading"]["conditions"] = f"Do not approach {MARKER}"
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    shown = repr(decision) + str(decision)
    texts = [item.id, item.title, reader.id, MARKER]
    texts += [portion.text for portion in item.portions]
    texts += [
        getattr(subject, "value", "") or getattr(subject, "name", "") for subject in item.subjects
    ]
    for text in texts:
        assert text not in shown
