"""Inline span markings: `[[LEVEL: passage]]` inside a portion's text or the title (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dissemination import (
    DocumentError,
    Item,
    decide,
    load_item,
    parse_item,
    parse_principal,
    render,
    render_text,
)
from dissemination.cli import main
from dissemination.models import Portion
from dissemination.spans import check_spans, parse_spans
from dissemination.vocabulary import Vocabulary
from tests.strategies import LEVELS, NOW, VOCABULARY, broken_span_texts, span_texts

SPANS = settings(max_examples=200, deadline=None)


def item_data(text: str, *, title: str = "Report") -> dict[str, Any]:
    return {
        "id": "IT-SPAN",
        "title": title,
        "created": "2026-11-20T09:14:00Z",
        "classification": "OFFICIAL",
        "originator": {"organisation": "border-force", "unit": "unit-a"},
        "owner": {"organisation": "border-force", "unit": "unit-a", "contact": "o@example.org"},
        "portions": [
            {"id": "p1", "category": "tearline", "text": "Act on this."},
            {"id": "p2", "category": "narrative", "text": text},
        ],
    }


def reader(level: str | None) -> Any:
    data: dict[str, Any] = {
        "id": "reader",
        "organisation": "border-force",
        "employment": "crown-servant",
        "nationality": "GBR",
    }
    if level is not None:
        data["vetting"] = {"level": level}
    return parse_principal(data)


def shown(item: Item, level: str | None) -> tuple[str, str, list[str]]:
    """(the rendered p2 text, the JSON document, the rules) for a reader at `level`."""
    decision = decide(reader(level), item, now=NOW)
    document = render(item, decision)
    texts = {p["id"]: p["text"] for p in document["item"]["portions"]}
    return texts["p2"], json.dumps(document) + render_text(item, decision), list(decision.rules)


# -- well-formed spans: shown without markers, or masked ----------------------------------------


def test_a_reader_who_passes_reads_the_passage_without_markers() -> None:
    item = parse_item(item_data("The driver, [[SC: a port employee,]] books each crossing."))
    text, _, rules = shown(item, "SC")
    assert text == "The driver, a port employee, books each crossing."
    assert "mask.span" not in rules


def test_a_reader_below_the_level_reads_a_mask() -> None:
    item = parse_item(item_data("The driver, [[SC: a port employee,]] books each crossing."))
    text, everything, rules = shown(item, "BPSS")
    assert text == "The driver, [WITHHELD] books each crossing."
    assert "port employee" not in everything
    assert rules.count("mask.span") == 1
    decision = decide(reader("BPSS"), item, now=NOW)
    assert "Why: a passage above your vetting was masked in portion p2" in render_text(
        item, decision
    )


def test_a_reader_with_no_vetting_passes_no_span() -> None:
    item = parse_item(item_data("x [[BPSS: lowest]] y"))
    decision = decide(reader(None), item, now=NOW)
    assert "lowest" not in json.dumps(render(item, decision))


def test_spans_in_the_title_are_masked_where_the_title_is_shown() -> None:
    item = parse_item(item_data("Body.", title="Courier [[DV: codename HERON]] identified"))
    decision = decide(reader("SC"), item, now=NOW)
    assert render(item, decision)["item"]["title"] == "Courier [WITHHELD] identified"
    assert "Courier [WITHHELD] identified\n" in render_text(item, decision)
    assert "a passage above your vetting was masked in the title" in [
        reason.text for reason in decision.reasons
    ]
    decision = decide(reader("DV"), item, now=NOW)
    assert render(item, decision)["item"]["title"] == "Courier codename HERON identified"


def test_a_mention_split_by_a_span_marker_is_still_masked() -> None:
    data = item_data("Vehicle AB12 [[SC: CDE]] seen.")
    data["subjects"] = [{"type": "vehicle", "value": "AB12CDE", "marking": {"min_vetting": "DV"}}]
    text, _, _ = shown(parse_item(data), "SC")
    assert text == "Vehicle [WITHHELD vehicle] seen."


@SPANS
@given(written=span_texts(), level=st.sampled_from([*LEVELS, None]))
def test_spans_above_the_reader_never_leak(
    written: tuple[str, list[tuple[str, str]]], level: str | None
) -> None:
    text, spans = written
    item = parse_item(item_data(text, title=text))
    rank = -1 if level is None else VOCABULARY.vetting_rank(level)
    decision = decide(reader(level), item, now=NOW)
    everything = json.dumps(render(item, decision)) + render_text(item, decision)
    document = render(item, decision).get("item") or {}
    rendered = {p["id"]: p["text"] for p in document.get("portions", [])}
    if "p2" not in rendered:  # the item needs BPSS: a reader with none sees a pointer
        assert all(passage not in everything for _, passage in spans)
        return
    assert "[[" not in rendered["p2"]
    assert "]]" not in rendered["p2"]
    withheld = 0
    for span_level, passage in spans:
        if rank >= VOCABULARY.vetting_rank(span_level):
            assert passage in rendered["p2"]
        else:
            withheld += 1
            assert passage not in everything
    assert rendered["p2"].count("[WITHHELD]") == withheld
    assert ("mask.span" in decision.rules) == bool(withheld)


# -- malformed spans: a one-line load error, never a silently shown span ------------------------

_BROKEN = [
    "never closed [[SC: zzsecret",
    "closed ]] before opened",
    "nested [[SC: outer [[DV: inner]] ]]",
    "no level [[: zzsecret]]",
    "no colon [[SC zzsecret]]",
    "unknown level [[COSMIC: zzsecret]]",
    "empty [[SC:   ]]",
    "stray [[ open",
    "triple [[[SC: zzsecret]]",
]


@pytest.mark.parametrize("text", _BROKEN)
def test_malformed_markers_name_the_field_not_the_text(text: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_item(item_data(text))
    message = str(caught.value)
    assert caught.value.field == "portions.1.text"
    assert "\n" not in message
    assert "zzsecret" not in message
    assert "inline marking" in message
    assert message == message.rstrip(".")


@SPANS
@given(broken=broken_span_texts())
def test_any_broken_marker_is_a_load_error(broken: tuple[str, str, list[Any]]) -> None:
    how, text, spans = broken
    with pytest.raises(DocumentError) as caught:
        parse_item(item_data(text))
    assert caught.value.field == "portions.1.text", how
    message = str(caught.value)
    assert "\n" not in message
    assert all(passage not in message for _, passage in spans)


def test_a_broken_title_is_a_load_error() -> None:
    with pytest.raises(DocumentError) as caught:
        parse_item(item_data("Body.", title="Report [[SC: never closed"))
    assert caught.value.field == "title"


def test_load_item_and_the_cli_refuse_a_broken_span(tmp_path: Path) -> None:
    item_file = tmp_path / "item.yaml"
    item_file.write_text(yaml.safe_dump(item_data("secret [[SC: courier JONES")), encoding="utf-8")
    with pytest.raises(DocumentError, match=r"`portions\.1\.text`"):
        load_item(item_file)
    reader_file = tmp_path / "reader.yaml"
    reader_file.write_text(
        yaml.safe_dump(reader("SC").model_dump(mode="json", exclude_none=True)), encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        ["view", str(item_file), "--as", str(reader_file), "--now", "2026-11-27T10:00:00Z"],
        catch_exceptions=False,
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "portions.1.text" in lines[0]
    assert "JONES" not in result.stderr
    assert result.stdout == ""


def test_levels_are_the_profiles() -> None:
    """A span may name only a level of the profile the item is validated against."""
    other = Vocabulary.model_validate(
        {
            **VOCABULARY.model_dump(),
            "vetting_levels": ["BASIC", "HIGH"],
            "baseline_vetting": "BASIC",
            "classifications": {"OFFICIAL": "BASIC"},
        }
    )
    assert check_spans("a [[high: b]] c", other) == "a [[high: b]] c"
    with pytest.raises(ValueError, match="names no vetting level"):
        check_spans("a [[SC: b]] c", other)
    with pytest.raises(ValidationError):
        Portion.model_validate(
            {"id": "p1", "category": "narrative", "text": "a [[SC: b]] c"},
            context={"vocabulary": other},
        )


def test_parse_spans_offsets() -> None:
    text = "a [[sc:  bc]] d"
    (span,) = parse_spans(text)
    assert (text[span.start : span.body], text[span.body : span.close], span.level) == (
        "[[sc:  ",
        "bc",
        "sc",
    )
    assert text[span.close : span.end] == "]]"
    assert parse_spans("no markers [at all] here") == ()
