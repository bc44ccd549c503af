"""What each view contains (DESIGN §2), checked on hand-made items."""

from __future__ import annotations

from typing import Any

from dissemination import (
    View,
    decide,
    parse_item,
    parse_principal,
    render,
    render_item,
    render_text,
)
from tests.conftest import NOW
from tests.strategies import reader_doc


def reader(**overrides: Any) -> Any:
    return parse_principal(reader_doc(**overrides))


def item(**overrides: Any) -> Any:
    data: dict[str, Any] = {
        "id": "IT-1",
        "title": "Title naming the target",
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL-SENSITIVE",
        "required_vetting": "SC",
        "originator": {"organisation": "border-force", "unit": "FIC Hull"},
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example"},
        "grading": {
            "source": "2",
            "intelligence": "B",
            "handling_code": "C",
            "conditions": "Ask first",
        },
        "subjects": [{"type": "container", "value": "MSCU1234566"}],
        "portions": [
            {"id": "p1", "category": "tearline", "text": "tearline text"},
            {"id": "p2", "category": "narrative", "text": "narrative text"},
            {"id": "p3", "category": "assessment", "text": "assessment text"},
            {"id": "p4", "category": "source", "text": "source text"},
            {"id": "p5", "category": "method", "text": "method text"},
        ],
    }
    data.update(overrides)
    return parse_item(data)


def test_full_shows_every_portion() -> None:
    decision = decide(reader(), item(), now=NOW)
    assert decision.view is View.FULL
    assert decision.portions == ("p1", "p2", "p3", "p4", "p5")
    assert decision.conditions == ("Ask first",)


def test_sanitised_drops_source_and_method_and_asked_categories() -> None:
    agency = reader(employment="agency")
    decision = decide(agency, item(), now=NOW)
    assert decision.view is View.SANITISED
    assert decision.portions == ("p1", "p2", "p3")
    asked = item(handling=[{"kind": "sanitise", "categories": ["assessment"]}])
    assert decide(agency, asked, now=NOW).portions == ("p1", "p2")
    # The originator's own staff are not capped by `sanitise`, but at sanitised
    # (here: agency staff) the named categories still go.
    outsider = reader(organisation="nca")
    decision = decide(outsider, asked, now=NOW)
    assert decision.view is View.SANITISED
    assert decision.rules == ("cap.sanitise",)


def test_gist_is_tearline_subjects_banner_and_owner_without_title() -> None:
    low = reader(vetting={"level": "BPSS"})
    decision = decide(low, item(), now=NOW)
    assert decision.view is View.GIST
    assert decision.portions == ("p1",)
    rendered = render_item(item(), decision)
    assert rendered is not None
    assert "title" not in rendered
    assert "originator" not in rendered
    assert rendered["owner"]["contact"] == "fic@example"
    assert rendered["subjects"] == [{"type": "container", "value": "MSCU1234566"}]
    text = render_text(item(), decision)
    assert "Title naming the target" not in text
    assert "Conditions: Ask first" in text


def test_no_tearline_the_reader_passes_means_pointer() -> None:
    low = reader(vetting={"level": "BPSS"})
    marked = item(
        portions=[
            {"id": "p1", "category": "tearline", "text": "t", "marking": {"min_vetting": "SC"}}
        ]
    )
    decision = decide(low, marked, now=NOW)
    assert decision.view is View.POINTER
    assert decision.rules == ("base.pointer",)


def test_pointer_is_id_created_owner_and_referral() -> None:
    nobody = reader(vetting=None)
    decision = decide(nobody, item(), now=NOW)
    assert decision.view is View.POINTER
    document = render(item(), decision)
    assert document["item"] == {
        "id": "IT-1",
        "created": "2026-11-20T09:14:00Z",
        "owner": {"organisation": "border-force", "unit": "FIC Hull", "contact": "fic@example"},
        "referral": "refer to owner",
    }
    assert document["conditions"] == []
    assert "Title" not in render_text(item(), decision)


def test_originator_consent_refers_to_the_originator() -> None:
    consent = item(handling=[{"kind": "originator_consent"}], consents=["hmrc"])
    nca = decide(reader(organisation="nca"), consent, now=NOW)
    assert nca.view is View.POINTER
    assert nca.obligations == ("refer_to_originator",)
    assert render(consent, nca)["item"]["referral"] == "refer to originator"
    assert decide(reader(organisation="hmrc"), consent, now=NOW).view is View.FULL
    assert decide(reader(), consent, now=NOW).view is View.FULL


def test_expired_vetting_counts_as_none() -> None:
    expired = reader(vetting={"level": "DV", "expires": "2026-11-27"})
    assert decide(expired, item(), now=NOW).view is View.POINTER
    current = reader(vetting={"level": "DV", "expires": "2026-11-28"})
    assert decide(current, item(), now=NOW).view is View.FULL


def test_marked_subject_and_portion_are_removed_from_every_view() -> None:
    marked = item(
        subjects=[
            {"type": "container", "value": "MSCU1234566"},
            {"type": "vehicle", "value": "AB12 CDE", "marking": {"min_vetting": "DV"}},
        ],
        portions=[
            {"id": "p1", "category": "tearline", "text": "t"},
            {"id": "p2", "category": "narrative", "text": "n", "marking": {"min_vetting": "DV"}},
            {
                "id": "p3",
                "category": "narrative",
                "text": "m",
                "marking": {"handling": [{"kind": "releasable_to", "organisations": ["hmrc"]}]},
            },
        ],
    )
    decision = decide(reader(organisation="nca"), marked, now=NOW)
    assert decision.view is View.FULL
    assert decision.portions == ("p1",)
    assert decision.subjects == (0,)
    assert {(w.id, w.rule) for w in decision.withheld} == {
        ("p2", "marking.min_vetting"),
        ("p3", "marking.handling"),
        ("s2", "marking.min_vetting"),
    }
    # The originator's own staff pass the releasable_to marking.
    assert decide(reader(), marked, now=NOW).portions == ("p1", "p3")


def test_caveats_travel_in_the_banner() -> None:
    caveated = item(
        handling=[{"kind": "not_for_evidence"}, {"kind": "descriptor", "name": "personal data"}]
    )
    decision = decide(reader(vetting={"level": "BPSS"}), caveated, now=NOW)
    assert decision.caveats == ("NOT FOR EVIDENCE", "PERSONAL DATA")
    assert render_text(caveated, decision).splitlines()[0] == (
        "OFFICIAL-SENSITIVE | NOT FOR EVIDENCE | PERSONAL DATA"
    )
    assert render(caveated, decision)["conditions"] == [
        "Ask first",
        "NOT FOR EVIDENCE",
        "PERSONAL DATA",
    ]


def test_lowest_cap_wins_and_is_the_reason() -> None:
    both = item(
        handling=[
            {"kind": "no_agency_staff"},
            {"kind": "eyes_only", "nationalities": ["GBR"]},
        ]
    )
    agency_foreign = reader(employment="agency", nationality="NLD")
    decision = decide(agency_foreign, both, now=NOW)
    assert decision.view is View.NONE
    assert decision.rules == ("cap.eyes_only",)


def test_now_must_have_a_zone() -> None:
    import datetime as dt

    import pytest

    with pytest.raises(ValueError, match="time zone"):
        decide(reader(), item(), now=dt.datetime(2026, 11, 27))


def test_span_markers_in_conditions_are_a_load_error() -> None:
    import pytest

    from dissemination import DocumentError

    with pytest.raises(DocumentError, match="not allowed in `conditions`") as caught:
        item(
            grading={
                "source": "2",
                "intelligence": "B",
                "handling_code": "C",
                "conditions": "Ask [[DV: the source handler]] first",
            }
        )
    assert "source handler" not in str(caught.value)
    assert caught.value.field == "grading.conditions"


def test_caveats_of_a_shown_subject_reach_the_banner_and_a_withheld_ones_do_not() -> None:
    marked = item(
        subjects=[
            {
                "type": "container",
                "value": "MSCU1234566",
                "marking": {"handling": [{"kind": "descriptor", "name": "COMMERCIAL"}]},
            },
            {
                "type": "vehicle",
                "value": "AB12 CDE",
                "marking": {"min_vetting": "DV", "handling": [{"kind": "not_for_evidence"}]},
            },
        ]
    )
    decision = decide(reader(), marked, now=NOW)
    assert decision.subjects == (0,)
    assert decision.caveats == ("COMMERCIAL",)
    high = decide(reader(vetting={"level": "DV"}), marked, now=NOW)
    assert high.caveats == ("COMMERCIAL", "NOT FOR EVIDENCE")
