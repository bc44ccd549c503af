"""Lookups recorded in the disclosure trail (issue 4, deliverable 4): what was shown, no more."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dissemination import Item
from dissemination.audit import DatabaseSink, DisclosureTrail, open_trail
from dissemination.decision import Decision
from dissemination.errors import TrailError
from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from tests.registry.support import NOW, container, item, reader

CONTAINER = normalise_value("container", "MSCU1234566")
WITHHELD_TEXT = ("MSCU1234566", "MSCU", "QXJTITLE", "QXJTEARLINE", "QXJSOURCE", "blank0001")


def _register_three(registry: Registry) -> None:
    """IT-1 shown in full, IT-2 at `none`, IT-3 seen but its marked subject not."""
    registry.register(item("IT-1", [container()]), now=NOW)
    registry.register(
        item("IT-2", [container()], handling=[{"kind": "eyes_only", "nationalities": ["USA"]}]),
        now=NOW,
    )
    registry.register(
        item("IT-3", [{"type": "other", "value": "x"}, container(marking={"min_vetting": "DV"})]),
        now=NOW,
    )


def _records(trail: DisclosureTrail) -> list[dict[str, Any]]:
    return [entry.data for entry in trail.sink.records() if entry.data is not None]


def test_a_lookup_records_each_item_it_shows_and_nothing_else(
    registry: Registry, tmp_path: Path
) -> None:
    _register_three(registry)
    key = Ed25519PrivateKey.generate()
    log = tmp_path / "trail.jsonl"
    with open_trail(log, checkpoint_key=key, checkpoint_every=1) as trail:
        answer = registry.lookup(CONTAINER, reader(level="SC"), now=NOW, record=trail.record)
        assert [linked.item_id for linked in answer.items] == ["IT-1"]
        [record] = _records(trail)
        assert trail.verify().ok
    assert record["reader"] == "reader-1"
    assert record["item"] == "IT-1"
    assert record["view"] == "full"
    # A lookup shows no portion and names no subject.
    assert (record["portions"], record["subjects"]) == ([], [])
    assert record["rules"]
    text = log.read_text()
    for withheld in (*WITHHELD_TEXT, "IT-2", "IT-3"):
        assert withheld not in text


def test_a_lookup_of_items_all_at_none_records_nothing(registry: Registry) -> None:
    for item_id, handling in (
        ("IT-1", {"kind": "recipients_only", "principals": ["someone-else"]}),
        ("IT-2", {"kind": "eyes_only", "nationalities": ["USA"]}),
    ):
        registry.register(item(item_id, [container()], handling=[handling]), now=NOW)
    records: list[tuple[Item, Decision]] = []
    answer = registry.lookup(
        CONTAINER, reader(level="eDV"), now=NOW, record=lambda i, d: records.append((i, d))
    )
    assert not answer.found
    assert records == []


def test_a_pointer_lookup_records_the_pointer_view(registry: Registry, tmp_path: Path) -> None:
    registry.register(
        item("IT-1", [container()], handling=[{"kind": "releasable_to", "organisations": ["nca"]}]),
        now=NOW,
    )
    with open_trail(tmp_path / "trail.jsonl") as trail:
        registry.lookup(
            CONTAINER, reader(organisation="hmrc", level="DV"), now=NOW, record=trail.record
        )
        [record] = _records(trail)
    assert (record["item"], record["view"], record["portions"]) == ("IT-1", "pointer", [])


def test_every_shown_item_is_recorded_in_item_order(registry: Registry, tmp_path: Path) -> None:
    for item_id in ("IT-3", "IT-1", "IT-2"):
        registry.register(item(item_id, [container()]), now=NOW)
    with open_trail(tmp_path / "trail.jsonl") as trail:
        answer = registry.lookup(CONTAINER, reader(), now=NOW, record=trail.record)
        assert [r["item"] for r in _records(trail)] == [i.item_id for i in answer.items]
        assert [r["seq"] for r in _records(trail)] == [1, 2, 3]
        assert trail.verify().ok


def test_a_lookup_that_cannot_be_recorded_answers_nothing(registry: Registry) -> None:
    registry.register(item("IT-1", [container()]), now=NOW)

    def broken(_item: Item, _decision: Decision) -> None:
        raise TrailError("the trail cannot be written", target="<test>")

    with pytest.raises(TrailError):
        registry.lookup(CONTAINER, reader(), now=NOW, record=broken)


def test_a_lookup_recorded_in_the_registrys_own_database(
    registry: Registry, database: tuple[str, str]
) -> None:
    url, _ = database
    registry.register(item("IT-1", [container()]), now=NOW)
    sink = DatabaseSink(url, prefix=f"t_{uuid.uuid4().hex[:12]}")
    try:
        trail = DisclosureTrail(sink)
        registry.lookup(CONTAINER, reader(), now=NOW, record=trail.record)
        [record] = _records(trail)
        assert record["item"] == "IT-1"
        assert trail.verify().ok
        assert "MSCU1234566" not in json.dumps(record)
    finally:
        sink.drop()
        sink.close()
