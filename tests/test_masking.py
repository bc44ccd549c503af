"""Withheld subjects never leak through free text (issue 7): mentions are masked."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dissemination import Decision, Item, View, decide, parse_item, parse_principal, render
from dissemination import render_text as text_of
from dissemination.masking import TextMask, apply_mask, masked_text
from tests.strategies import NOW, compact, unrelated_text, withheld_mentions

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
MASKING = settings(max_examples=120, deadline=None)

FULL_READER = parse_principal(
    {
        "id": "reader-sc",
        "organisation": "border-force",
        "employment": "crown-servant",
        "nationality": "GBR",
        "vetting": {"level": "SC"},
    }
)
GIST_READER = parse_principal({**FULL_READER.model_dump(mode="json"), "vetting": {"level": "CTC"}})
DV_READER = parse_principal({**FULL_READER.model_dump(mode="json"), "vetting": {"level": "DV"}})


def item_with(
    subjects: list[dict[str, Any]],
    text: str,
    *,
    title: str = "Report",
    conditions: str | None = None,
    more: tuple[str, ...] = (),
) -> Item:
    """An OFFICIAL item needing SC: an SC reader gets `full`, a CTC reader the tearline."""
    data: dict[str, Any] = {
        "id": "IT-MASK",
        "title": title,
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL",
        "required_vetting": "SC",
        "originator": {"organisation": "border-force", "unit": "unit-a"},
        "owner": {"organisation": "border-force", "unit": "unit-a", "contact": "o@example.org"},
        "subjects": subjects,
        "portions": [
            {"id": "p1", "category": "tearline", "text": text},
            *({"id": f"p{n}", "category": "narrative", "text": t} for n, t in enumerate(more, 2)),
        ],
    }
    if conditions is not None:
        data["grading"] = {
            "source": "2",
            "intelligence": "B",
            "handling_code": "C",
            "conditions": conditions,
        }
    return parse_item(data)


def withheld(subject: dict[str, Any]) -> dict[str, Any]:
    return {**subject, "marking": {"min_vetting": "DV"}}


def outputs(item: Item, decision: Decision) -> list[str]:
    """Everything the reader gets: the JSON document and the text rendering."""
    document = render(item, decision)
    document.pop("policy")  # the policy digest: hex, not from the item
    return [json.dumps(document, ensure_ascii=False), text_of(item, decision)]


def shown_text(item: Item, decision: Decision, portion: str = "p1") -> str:
    rendered = render(item, decision)["item"]
    return str(next(p["text"] for p in rendered["portions"] if p["id"] == portion))


# -- the promise: a withheld identifier, however written, never survives rendering -----------


@pytest.mark.parametrize("kind", TYPES)
@MASKING
@given(data=st.data())
def test_withheld_identifier_never_survives_rendering(kind: str, data: st.DataObject) -> None:
    subject, written, secrets = data.draw(withheld_mentions(kind))
    before = data.draw(st.sampled_from(["Seen with", "Refer:", "(", "Notes -", "", "ref/"]))
    after = data.draw(st.sampled_from(["today.", ",", ") again", "", "?", "'s car"]))
    text = f"{before} {written} {after}".strip()
    reader = data.draw(st.sampled_from([FULL_READER, GIST_READER]))
    item = item_with(
        [withheld(subject)],
        text,
        title=f"Report on {written}",
        conditions=f"Do not approach {written}",
        more=(f"{written}",),
    )
    decision = decide(reader, item, now=NOW)
    assert decision.view is (View.FULL if reader is FULL_READER else View.GIST)
    assert decision.subjects == ()
    for output in outputs(item, decision):
        flat = compact(output)
        for secret in secrets:
            assert secret not in flat
    assert f"[WITHHELD {kind}]" in shown_text(item, decision)
    assert "mask.subject" in decision.rules


@pytest.mark.parametrize("kind", TYPES)
@MASKING
@given(data=st.data())
def test_shown_subject_mentions_are_left_alone(kind: str, data: st.DataObject) -> None:
    subject, written, _ = data.draw(withheld_mentions(kind))
    text = f"Seen with {written} today."
    item = item_with([subject], text, title=f"Report on {written}")
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.subjects == (0,)
    assert shown_text(item, decision) == item.portions[0].text
    assert render(item, decision)["item"]["title"] == item.title
    assert decision.masks == ()
    assert not [rule for rule in decision.rules if rule.startswith("mask.")]


@MASKING
@given(shown=withheld_mentions(), hidden=withheld_mentions())
def test_shown_and_withheld_in_one_text(
    shown: tuple[dict[str, Any], str, list[str]], hidden: tuple[dict[str, Any], str, list[str]]
) -> None:
    shown_subject, shown_written, shown_secrets = shown
    hidden_subject, hidden_written, hidden_secrets = hidden
    # Two different identifiers: neither one's forms within the other's.
    assume(not any(secret in compact(shown_written) for secret in hidden_secrets))
    assume(not any(secret in compact(hidden_written) for secret in shown_secrets))
    assume(not any(secret in compact(json.dumps(shown_subject)) for secret in hidden_secrets))
    # A word between them: punctuation alone is a separator the masker reads
    # across (`00 ; +44 ...` is the international prefix of a withheld phone).
    text = f"{shown_written} ; then ; {hidden_written} ."
    item = item_with([shown_subject, withheld(hidden_subject)], text)
    decision = decide(FULL_READER, item, now=NOW)
    rendered = shown_text(item, decision)
    assert decision.subjects == (0,)
    assert rendered.startswith(item.portions[0].text.split(" ; then ; ")[0] + " ; then ; ")
    for secret in hidden_secrets:
        assert secret not in compact(rendered)


# -- no over-masking ------------------------------------------------------------------------------


@MASKING
@given(text=unrelated_text, mentions=st.lists(withheld_mentions(), min_size=1, max_size=4))
def test_text_without_a_mention_is_unchanged_byte_for_byte(
    text: str, mentions: list[tuple[dict[str, Any], str, list[str]]]
) -> None:
    subjects = [withheld(subject) for subject, _, _ in mentions]
    item = item_with(subjects, text, title=text, conditions=text)
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.view is View.FULL
    rendered = render(item, decision)
    assert rendered["item"]["portions"][0]["text"] == item.portions[0].text
    assert rendered["item"]["title"] == item.title
    assert rendered["item"]["grading"]["conditions"] == item.portions[0].text
    assert decision.masks == ()
    assert not [rule for rule in decision.rules if rule.startswith("mask.")]


_GLUED = [
    ({"type": "vehicle", "value": "AB12 CDE"}, ["XAB12CDE", "AB12CDEF", "AB12CDE7", "ab12cdex"]),
    ({"type": "container", "value": "MSCU1234566"}, ["XMSCU1234566", "MSCU12345667"]),
    ({"type": "phone", "value": "+44 7700 900123"}, ["077009001234", "17700900123", "x7700900123"]),
    ({"type": "passport", "country": "GBR", "value": "123456789"}, ["1234567890", "A123456789"]),
    ({"type": "vessel", "value": "IMO 9074729"}, ["90747291", "IMO90747290", "X9074729"]),
    ({"type": "email", "value": "jo@example.com"}, ["xjo@example.com", "jo@example.com.au"]),
    (
        {"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"},
        ["Johnson", "Smithfield", "29/02/1981", "1980", "129/02/1980", "1980-02-290"],
    ),
    ({"type": "organisation", "value": "Northern Freight Ltd"}, ["Northern Freightliner"]),
    ({"type": "other", "value": "red van"}, ["redvans", "bored vanity"]),
]


@pytest.mark.parametrize(
    ("subject", "text"), [(subject, text) for subject, texts in _GLUED for text in texts]
)
def test_no_mask_inside_a_larger_token(subject: dict[str, Any], text: str) -> None:
    item = item_with([withheld(subject)], f"Seen {text} today")
    decision = decide(FULL_READER, item, now=NOW)
    assert shown_text(item, decision) == f"Seen {text} today"


# -- the forms of the issue, each spelled out ----------------------------------------------------

_MATCHED = [
    (
        {"type": "vehicle", "value": "AB12 CDE"},
        [
            "AB12 CDE",
            "ab12cde",
            "AB12-CDE",
            "Ab 12 cde",
            "\uff21\uff22\uff11\uff12\uff23DE",
            "AB*12*CDE",
            "AB_12_CDE",
            "AB_12*CDE",
            "AB12%20CDE",
            "AB12%2520CDE",
            "AB12&nbsp;CDE",
            "AB12&#32;CDE",
            "&#65;B12CDE",
            "\U0001d400\U0001d401\U0001d7cf\U0001d7d0\U0001d402\U0001d403\U0001d404",
            "AB\u200b12\u200eCDE",
            "A\u0301B12 C\u0327DE",
            "A\u00adB12\u2060CDE",
        ],
    ),
    (
        {"type": "container", "value": "MSCU1234566"},
        ["MSCU1234566", "MSCU 123456 6", "MSCU 123456-6", "mscu 1234566"],
    ),
    (
        {"type": "phone", "value": "+44 7700 900123"},
        [
            "07700 900123",
            "+44 7700 900123",
            "+447700900123",
            "0044 7700 900 123",
            "+44 (0)7700 900123",
            "(07700) 900123",
            "07700-900-123",
            "7700 900123",
            "011 44 7700 900123",
        ],
    ),
    (
        {"type": "email", "value": "John.Smith@Example.gov.uk"},
        [
            "john.smith@example.gov.uk",
            "JOHN.SMITH@EXAMPLE.GOV.UK",
            "john.smith [at] example [dot] gov [dot] uk",
            "john.smith (at) example (dot) gov (dot) uk",
            "john.smith at example dot gov dot uk",
            "john dot smith at example dot gov dot uk",
            "john[dot]smith(at)example.gov.uk",
            "john.smith%40example.gov.uk",
            "john.smith&#64;example.gov.uk",
        ],
    ),
    (
        {"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"},
        [
            "John SMITH",
            "Smith, John",
            "SMITH John",
            "john smith",
            "J. Smith",
            "SMITH",
            "Jöhn Smíth",
            "29/02/1980",
            "29 Feb 1980",
            "29 February 1980",
            "29th of February 1980",
            "1980-02-29",
            "29.02.80",
            "February 29, 1980",
            "29/2/80",
            "29.02.1980",
            "19800229",
            "290280",
            "800229",
            "Feb 29, 80",
            "29/02/'80",
            "29 Febr 1980",
            "29 février 1980",
            "29 fe\u0301vrier 1980",
            "29 févr. 80",
            "29 de febrero de 1980",
            "29-feb-80",
        ],
    ),
    (
        {"type": "person", "name": "Sean O'BRIEN", "date_of_birth": "1980-09-03"},
        ["O\u2019Brien", "OBrien", "3 Sept 1980"],
    ),
    (
        {"type": "person", "name": "Ann SMITH-JONES", "date_of_birth": "1980-02-29"},
        ["Smith Jones", "Smith_Jones"],
    ),
    (
        {"type": "person", "name": "Ana GARCÍA", "date_of_birth": "1980-03-01"},
        ["1er mars 1980", "1 de marzo de 1980", "Garci\u0301a", "GARCIA"],
    ),
    ({"type": "email", "value": "jo@b\u00fccher.de"}, ["jo@xn--bcher-kva.de"]),
    (
        {"type": "passport", "country": "GBR", "value": "123456789"},
        ["123456789", "123 456 789", "GBR123456789", "GBR 123-456-789"],
    ),
    (
        {"type": "vessel", "value": "IMO 9074729"},
        ["IMO 9074729", "IMO9074729", "9074729", "imo no. 9074729", "IMO: 907 4729"],
    ),
    (
        {"type": "vessel", "value": "MV Northern Star"},
        ["MV Northern Star", "Northern Star", "m/v NORTHERN STAR"],
    ),
    (
        {"type": "organisation", "value": "Northern Freight Ltd"},
        [
            "Northern Freight Ltd",
            "NORTHERN FREIGHT LIMITED",
            "Northern Freight",
            "northern freight",
        ],
    ),
    ({"type": "organisation", "value": "Smith & Sons"}, ["Smith and Sons", "SMITH & SONS"]),
    ({"type": "other", "value": "red van"}, ["red van", "Red  Van", "RED\nVAN"]),
    ({"type": "other", "value": "Stra\u00dfe"}, ["Strasse", "STRASSE"]),
]


@pytest.mark.parametrize(
    ("subject", "written"), [(subject, text) for subject, texts in _MATCHED for text in texts]
)
def test_each_written_form_is_masked(subject: dict[str, Any], written: str) -> None:
    item = item_with([withheld(subject)], f"Seen {written}, today")
    decision = decide(FULL_READER, item, now=NOW)
    assert shown_text(item, decision) == f"Seen [WITHHELD {subject['type']}], today"


_NOT_MATCHED = [
    # Known, documented in docs/masking.md: forenames alone, US dates, digits in words.
    ({"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}, "John"),
    ({"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}, "02/29/1980"),
    ({"type": "phone", "value": "+44 7700 900123"}, "seven seven double-oh"),
    ({"type": "organisation", "value": "Northern Freight Ltd"}, "NFL"),
    # Homoglyphs: Cyrillic A, B, C, E look like Latin ones.
    ({"type": "vehicle", "value": "AB12 CDE"}, "\u0410\u041212 \u0421D\u0415"),
    # The rest of the list in docs/masking.md.
    ({"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}, "Jon Smyth"),
    ({"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}, "born 1980"),
    ({"type": "vehicle", "value": "AB12 CDE"}, "regAB12CDE"),
    ({"type": "vehicle", "value": "AB12 CDE"}, "AB  -  12CDE"),
    ({"type": "vehicle", "value": "AB12 CDE"}, "AB12"),
    ({"type": "phone", "value": "+44 7700 900123"}, "tel07700900123"),
    ({"type": "phone", "value": "+44 7700 900123"}, "0800 FLOWERS"),
    ({"type": "email", "value": "John.Smith@Example.gov.uk"}, "john.smith"),
    ({"type": "organisation", "value": "Northern Freight Ltd"}, "Northern"),
    # HTML beyond bare tags and entities, other encodings, reversed text.
    ({"type": "vehicle", "value": "AB12 CDE"}, 'AB12<span class="x">CDE'),
    ({"type": "vehicle", "value": "AB12 CDE"}, "AB12<!-- -->CDE"),
    ({"type": "vehicle", "value": "AB12 CDE"}, "\\u0041B12CDE"),
    ({"type": "vehicle", "value": "AB12 CDE"}, "\u202eEDC21BA\u202c"),
    ({"type": "other", "value": "S\u00f8ren"}, "Soren"),
]


@pytest.mark.parametrize(("subject", "written"), _NOT_MATCHED)
def test_forms_known_not_to_be_matched(subject: dict[str, Any], written: str) -> None:
    item = item_with([withheld(subject)], f"Seen {written} today")
    decision = decide(FULL_READER, item, now=NOW)
    assert shown_text(item, decision) == f"Seen {written} today"


def test_a_mention_inside_html_is_masked_and_the_tags_around_it_kept() -> None:
    """Bare tags read as spaces: the mask covers the value's own stretch, tags inside it too."""
    subject = {"type": "vehicle", "value": "AB12 CDE"}
    for written, shown in [
        ("<b>AB12</b> CDE", "<b>[WITHHELD vehicle]"),
        ("<i>AB12 CDE</i>", "<i>[WITHHELD vehicle]</i>"),
        ("AB<br/>12CDE", "[WITHHELD vehicle]"),
    ]:
        item = item_with([withheld(subject)], f"Seen {written}, today")
        decision = decide(FULL_READER, item, now=NOW)
        assert shown_text(item, decision) == f"Seen {shown}, today", written


def test_an_initial_not_the_persons_is_left_outside_the_mask() -> None:
    """docs/masking.md: `J. Smith` is masked whole for John Smith; `K. Smith` reads `K. [...]`."""
    for written, shown in [("J. Smith", "[WITHHELD person]"), ("K. Smith", "K. [WITHHELD person]")]:
        subject = {"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}
        item = item_with([withheld(subject)], f"Seen {written} today")
        decision = decide(FULL_READER, item, now=NOW)
        assert shown_text(item, decision) == f"Seen {shown} today"


# -- reasons, fail closed, and the renderers agree ------------------------------------------


def test_reasons_name_the_portion_and_type_never_the_value() -> None:
    item = item_with(
        [withheld({"type": "phone", "value": "+44 7700 900123"})],
        "Call 07700 900123 first.",
        title="Phone 07700 900123",
        more=("Nothing here.", "Also +44 7700 900123."),
    )
    decision = decide(FULL_READER, item, now=NOW)
    masking = [(r.rule, r.text) for r in decision.reasons if r.rule.startswith("mask.")]
    assert masking == [
        ("mask.subject", "a withheld phone was masked in the title"),
        ("mask.subject", "a withheld phone was masked in portion p1"),
        ("mask.subject", "a withheld phone was masked in portion p3"),
    ]
    assert "Why: a withheld phone was masked in portion p1" in text_of(item, decision)
    assert "7700" not in repr(decision)


def test_a_subject_both_shown_and_withheld_is_withheld() -> None:
    """Fail closed: the same vehicle entered twice, once with a marking."""
    item = item_with(
        [
            {"type": "vehicle", "value": "ab12cde"},
            withheld({"type": "vehicle", "value": "AB12 CDE"}),
        ],
        "Stop AB12 CDE.",
    )
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.subjects == ()
    assert ("subject", "s1", "mask.subject") in [(w.kind, w.id, w.rule) for w in decision.withheld]
    for output in outputs(item, decision):
        assert "ab12cde" not in compact(output)
    # Readers who may see both still see both, unmasked.
    everything = decide(DV_READER, item, now=NOW)
    assert everything.subjects == (0, 1)
    assert shown_text(item, everything) == "Stop AB12 CDE."


def test_a_shown_subject_written_with_fullwidth_separators_is_withheld() -> None:
    """The structured list is searched as the text is: a fullwidth hyphen is a separator."""
    item = item_with(
        [
            {"type": "other", "value": "AB\uff0d12\uff0dCDE"},
            withheld({"type": "vehicle", "value": "AB12CDE"}),
        ],
        "Stop now.",
    )
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.subjects == ()
    for output in outputs(item, decision):
        assert "12\uff0dCDE" not in output


def test_overlapping_mentions_are_masked_as_one() -> None:
    item = item_with(
        [
            withheld({"type": "organisation", "value": "Smith Haulage Ltd"}),
            withheld({"type": "person", "name": "John SMITH", "date_of_birth": "1980-02-29"}),
        ],
        "John Smith Haulage Ltd hired the van.",
    )
    decision = decide(FULL_READER, item, now=NOW)
    assert shown_text(item, decision) == "[WITHHELD organisation/person] hired the van."


def test_json_and_text_agree() -> None:
    item = item_with(
        [withheld({"type": "vehicle", "value": "AB12 CDE"})],
        "Stop AB12 CDE.",
        title="AB12CDE again",
        conditions="Do not stop ab12 cde",
    )
    decision = decide(FULL_READER, item, now=NOW)
    document = render(item, decision)
    text = text_of(item, decision)
    assert document["item"]["title"] == "[WITHHELD vehicle] again"
    assert document["item"]["grading"]["conditions"] == "Do not stop [WITHHELD vehicle]"
    assert document["conditions"][0] == "Do not stop [WITHHELD vehicle]"
    assert "[WITHHELD vehicle] again\n" in text
    assert "Conditions: Do not stop [WITHHELD vehicle]\n" in text
    assert "[TEARLINE] Stop [WITHHELD vehicle].\n" in text


def test_the_title_is_not_masked_where_it_is_not_shown() -> None:
    item = item_with([withheld({"type": "vehicle", "value": "AB12 CDE"})], "Stop.", title="AB12CDE")
    decision = decide(GIST_READER, item, now=NOW)
    assert decision.view is View.GIST
    assert [mask.part for mask in decision.masks] == []
    assert "title" not in render(item, decision)["item"]


def test_no_withheld_subject_means_no_pattern_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path: nothing withheld and no span markers, so no regular expression at all."""

    def refuse(*_: object) -> None:
        raise AssertionError("a mention finder was built")

    monkeypatch.setattr("dissemination.masking.mention_finder", refuse)
    item = item_with([{"type": "vehicle", "value": "AB12 CDE"}], "Stop AB12 CDE.")
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.masks == ()
    assert shown_text(item, decision) == "Stop AB12 CDE."


def test_masks_for_another_text_are_refused() -> None:
    mask = TextMask("portion", "p1", 5, ())
    with pytest.raises(ValueError, match="another text"):
        apply_mask("longer text", mask)


def test_a_decision_for_another_item_is_refused_by_both_renderers() -> None:
    """Its masks' offsets are for other texts: applied here they would mask the wrong stretch."""
    first = item_with([withheld({"type": "vehicle", "value": "AB12CDE"})], "Stop AB12CDE now.")
    other = parse_item(
        {
            **first.model_dump(mode="json"),
            "id": "IT-OTHER",
            "portions": [{"id": "p1", "category": "tearline", "text": "Plate: XY99ZZZ..."}],
        }
    )
    decision = decide(FULL_READER, first, now=NOW)
    with pytest.raises(ValueError, match="another item"):
        render(other, decision)
    with pytest.raises(ValueError, match="another item"):
        text_of(other, decision)


def test_a_decision_without_masks_still_masks_every_span() -> None:
    """Fail closed: markers with no edits (a decision made by hand) are all masked."""
    assert masked_text((), "portion", "p1", "a [[SC: b]] c") == "a [WITHHELD] c"
    assert masked_text((), "portion", "p1", "plain") == "plain"


# -- the skeleton: one folded character per letter or digit ------------------------------------

EVERY = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)


def test_the_skeleton_drops_format_characters_and_accents() -> None:
    """Cf characters (zero-width, bidi, soft hyphen) and combining marks never reach a form."""
    from dissemination.mentions import skeleton

    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        if unicodedata.category(char) in {"Cf", "Mn", "Me"}:
            assert skeleton(f"a{char}b") == "ab", hex(code)


def test_the_skeleton_folds_every_case_form_of_an_ascii_letter() -> None:
    """What `re` takes for an ASCII letter, and every accented Latin form, folds to it."""
    from dissemination.mentions import skeleton

    for letter in "abcdefghijklmnopqrstuvwxyz":
        for match in re.finditer(letter, EVERY, re.IGNORECASE):
            assert skeleton(match.group()) == letter, hex(ord(match.group()))
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if chr(code).isalpha() and base.isascii() and base.isalpha():
            # A ligature (`Ĳ`) is read as its letters: the first is the base.
            assert skeleton(chr(code))[:1] == base.lower(), hex(code)


@given(text=st.text())
def test_every_reading_maps_back_to_the_characters_it_came_from(text: str) -> None:
    """A skeleton character's stretch of the original folds to a skeleton holding it."""
    from dissemination.mentions import Prepared, skeleton

    prepared = Prepared(text)
    assert prepared.readings[0].skeleton == skeleton(text)
    for reading in prepared.readings:
        for index, char in enumerate(reading.skeleton):
            at = reading.position(index)
            start, end = reading.origin(at, at + 1)
            assert 0 <= start < end <= len(text)
            if reading is prepared.readings[0]:
                assert char in skeleton(text[start:end])


@given(text=st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_skeleton_is_the_general_one(text: str) -> None:
    from dissemination.mentions import _NOT_ALNUM, fold, skeleton

    assert skeleton(text) == _NOT_ALNUM.sub("", fold(text))


def test_texts_searched_together_keep_their_mentions_apart() -> None:
    """Texts are searched in one pass, joined: no mention may run from one into the next."""
    subjects = [
        withheld({"type": "vehicle", "value": "AB12 CDE"}),
        withheld({"type": "email", "value": "jo@example.com"}),
    ]
    item = item_with(subjects, "CDE now, at example.com", title="Stop AB12", more=("jo",))
    decision = decide(FULL_READER, item, now=NOW)
    assert decision.masks == ()
    item = item_with(subjects, "Stop ab12cde.", title="AB12 CDE", more=("jo@example.com",))
    decision = decide(FULL_READER, item, now=NOW)
    document = render(item, decision)
    assert document["item"]["title"] == "[WITHHELD vehicle]"
    assert [p["text"] for p in document["item"]["portions"]] == [
        "Stop [WITHHELD vehicle].",
        "[WITHHELD email]",
    ]
