"""The promises of DESIGN §5 as properties over generated readers and items."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dissemination import (
    DocumentError,
    Item,
    Policy,
    View,
    decide,
    load_policy,
    parse_item,
    parse_principal,
    render,
    render_text,
)
from dissemination.policy import DEFAULT_POLICY_DIR
from dissemination.vocabulary import Vocabulary
from tests.oracle import decide_reference
from tests.strategies import (
    LEVELS,
    NOW,
    handling,
    item_data,
    item_doc,
    items,
    principal_data,
    principals,
    reader_doc,
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def _withheld_texts(item_data_: dict[str, Any], decision: Any) -> list[str]:
    """The texts of every portion and subject the decision does not show."""
    texts = [
        portion["text"]
        for portion in item_data_["portions"]
        if portion["id"] not in decision.portions
    ]
    for index, subject in enumerate(item_data_["subjects"]):
        if index not in decision.subjects:
            texts.append(subject.get("value") or subject["name"])
    if decision.view < View.SANITISED:
        texts.append(item_data_["title"])
    return texts


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals())
def test_no_leak_of_withheld_content(data: dict[str, Any], reader: Any) -> None:
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    outputs = [
        json.dumps(render(item, decision), ensure_ascii=False),
        render_text(item, decision),
        " ".join(f"{reason.rule} {reason.text}" for reason in decision.reasons),
    ]
    for secret in _withheld_texts(data, decision):
        for output in outputs:
            assert secret not in output


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals())
def test_none_is_indistinguishable_from_absence(data: dict[str, Any], reader: Any) -> None:
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    if decision.view is View.NONE:
        document = render(item, decision)
        assert document == {
            "view": "none",
            "reasons": [],
            "conditions": [],
            "obligations": [],
            "policy": decision.policy,
        }
        assert render_text(item, decision) == ""


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals())
def test_pointer_carries_nothing_of_the_content(data: dict[str, Any], reader: Any) -> None:
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    if decision.view is View.POINTER:
        rendered = render(item, decision)["item"]
        assert set(rendered) == {"id", "created", "owner", "referral"}
        assert decision.portions == ()
        assert decision.subjects == ()


@PROPERTY_SETTINGS
@given(reader_data=principal_data(), item=items(), raise_by=st.integers(1, len(LEVELS)))
def test_raising_vetting_never_lowers_the_view(
    reader_data: dict[str, Any], item: Any, raise_by: int
) -> None:
    before = decide(parse_principal(reader_data), item, now=NOW)
    current = reader_data.get("vetting")
    rank = LEVELS.index(current["level"]) if current else -1
    higher = {"level": LEVELS[min(rank + raise_by, len(LEVELS) - 1)], "expires": "2030-01-01"}
    if current and "expires" in current and current["expires"] > "2030-01-01":
        higher["expires"] = current["expires"]
    after = decide(parse_principal({**reader_data, "vetting": higher}), item, now=NOW)
    assert after.view >= before.view
    assert set(before.portions) <= set(after.portions) or after.view != before.view


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals(), extra=handling())
def test_adding_a_handling_instruction_never_raises_the_view(
    data: dict[str, Any], reader: Any, extra: dict[str, Any]
) -> None:
    before = decide(reader, parse_item(data), now=NOW)
    more = {**data, "handling": [*data["handling"], extra]}
    after = decide(reader, parse_item(more), now=NOW)
    assert after.view <= before.view


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals(), extra=handling(), index=st.integers(0, 3))
def test_adding_a_marking_never_shows_more(
    data: dict[str, Any], reader: Any, extra: dict[str, Any], index: int
) -> None:
    before = decide(reader, parse_item(data), now=NOW)
    portions = [dict(portion) for portion in data["portions"]]
    target = portions[index % len(portions)]
    old = target.get("marking", {})
    target["marking"] = {**old, "handling": [*old.get("handling", []), extra]}
    after = decide(reader, parse_item({**data, "portions": portions}), now=NOW)
    assert after.view <= before.view
    if after.view == before.view:
        assert set(after.portions) <= set(before.portions)


@PROPERTY_SETTINGS
@given(data=item_data(), reader=principals())
def test_every_decision_is_explained(data: dict[str, Any], reader: Any) -> None:
    decision = decide(reader, parse_item(data), now=NOW)
    assert decision.reasons
    assert all(reason.text and reason.rule for reason in decision.reasons)


# -- fail closed ---------------------------------------------------------------


def _profile_without(tmp: Path, kind: str) -> Path:
    target = tmp / "profile"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    profile = yaml.safe_load((target / "profile.yaml").read_text())
    profile["vocabulary"]["handling_kinds"].remove(kind)
    # The STIX tables name every handling kind (the loader refuses a table naming
    # a kind the vocabulary lacks): this profile has no STIX interchange.
    del profile["stix"]
    (target / "profile.yaml").write_text(yaml.safe_dump(profile))
    return target


KINDS = ["releasable_to", "no_agency_staff", "sanitise", "not_for_evidence", "descriptor"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_kind_the_profile_does_not_know_gives_none(tmp_path: Path, kind: str) -> None:
    policy = load_policy(_profile_without(tmp_path, kind))
    instruction: dict[str, Any] = {"kind": kind}
    if kind == "releasable_to":
        instruction["organisations"] = ["border-force"]
    if kind == "sanitise":
        instruction["categories"] = ["source"]
    if kind == "descriptor":
        instruction["name"] = "LPP"
    data = item_doc(handling=[instruction])
    reader = parse_principal(reader_doc(vetting={"level": "eDV"}))
    decision = decide(reader, parse_item(data), now=NOW, policy=policy)
    assert decision.view is View.NONE
    assert decision.rules == ("cap.unknown_handling",)
    # The same item under the default profile is shown in full.
    assert decide(reader, parse_item(data), now=NOW).view is View.FULL


@PROPERTY_SETTINGS
@given(data=item_data(), reader_data=principal_data())
def test_a_label_from_another_vocabulary_gives_none(
    data: dict[str, Any], reader_data: dict[str, Any]
) -> None:
    """An item validated under a profile with an extra classification fails closed."""
    default = load_policy()
    wider = Vocabulary.model_validate(
        {
            **default.vocabulary.model_dump(),
            "classifications": {**default.vocabulary.classifications, "RESTRICTED": "BPSS"},
        }
    )
    item = Item.model_validate(
        {**data, "classification": "RESTRICTED", "required_vetting": None},
        context={"vocabulary": wider},
    )
    reader = parse_principal(reader_data)
    assert decide(reader, item, now=NOW).view is View.NONE


@pytest.fixture(scope="module")
def without_contractor(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """A profile that does not list `contractor` (and so has no row capping contractors)."""
    target = tmp_path_factory.mktemp("narrow") / "profile"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    profile = yaml.safe_load((target / "profile.yaml").read_text())
    profile["vocabulary"]["employment"].remove("contractor")
    profile["rules"] = {
        rule: words for rule, words in profile["rules"].items() if "contractor" not in rule
    }
    (target / "profile.yaml").write_text(yaml.safe_dump(profile))
    rows = (target / "policy.csv").read_text(encoding="utf-8").splitlines()
    kept = [row for row in rows if "employment.contractor" not in row]
    (target / "policy.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return load_policy(target)


@PROPERTY_SETTINGS
@given(reader_data=principal_data(), item=items())
def test_a_reader_from_a_wider_vocabulary_gives_none(
    without_contractor: Policy, reader_data: dict[str, Any], item: Item
) -> None:
    """A contractor validated under the default profile, decided by one without contractors.

    The narrower profile has no row for contractors, so without `reader.invalid`
    they would decide as unrestricted; they get `none`, by `cap.invalid_reader`,
    on the fast path and the reference alike.
    """
    reader = parse_principal({**reader_data, "employment": "contractor"})
    policy = without_contractor
    fast = decide(reader, item, now=NOW, policy=policy)
    reference = decide_reference(reader, item, now=NOW, policy=policy)
    assert fast == reference
    assert fast.view is View.NONE
    assert "reader.invalid" in fast.facts
    assert "cap.invalid_reader" in fast.rules
    # A reader the narrower profile lists is not touched by the row.
    listed = parse_principal({**reader_data, "employment": "agency"})
    assert "reader.invalid" not in decide(listed, item, now=NOW, policy=policy).facts


def test_an_unlisted_employment_is_named_as_the_reason(without_contractor: Policy) -> None:
    reader = parse_principal(reader_doc(employment="contractor", vetting={"level": "eDV"}))
    data = item_doc()
    for decided in (decide, decide_reference):
        decision = decided(reader, parse_item(data), now=NOW, policy=without_contractor)
        assert decision.view is View.NONE
        assert decision.rules == ("cap.invalid_reader",)
        assert decision.reasons[0].text == "your record does not fit this profile's vocabulary"
    # Under the default profile, which lists contractors, the contractor cap applies.
    assert decide(reader, parse_item(data), now=NOW).view is View.SANITISED


@given(kind=st.text(min_size=1, max_size=20).filter(lambda k: k not in KINDS))
def test_an_unknown_handling_kind_is_a_load_error(kind: str) -> None:
    data = item_doc(handling=[{"kind": kind}])
    if kind in {"need_to_know", "originator_consent", "embargo", "recipients_only", "eyes_only"}:
        return
    with pytest.raises(DocumentError) as caught:
        parse_item(data)
    assert caught.value.field.startswith("handling.0")
    assert "\n" not in str(caught.value)
