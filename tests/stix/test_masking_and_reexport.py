"""The masking promise holds in STIX too: export, and filter-stix over one of our exports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from hypothesis import given, settings

from dissemination import View, decide, default_policy, parse_item, parse_principal
from dissemination.stix.constants import PARTS_EXTENSION
from dissemination.stix.export import export_bundle
from dissemination.stix.filtering import filter_bundle
from tests.stix.support import validation_errors
from tests.strategies import NOW, compact, item_doc, reader_doc, withheld_mentions

POLICY = default_policy()
_NOISE = re.compile(r"[a-z0-9-]+--[0-9a-f-]{36}|\d{4}-\d\d-\d\dT[\d:.]+Z")


def _content(bundle: dict[str, Any]) -> str:
    """The bundle's text without ids, timestamps and our extension definitions (not content)."""
    objects = [o for o in bundle.get("objects", []) if o["type"] != "extension-definition"]
    return compact(_NOISE.sub(" ", json.dumps(objects, ensure_ascii=False)))


SC_READER = parse_principal(reader_doc())
DV_READER = parse_principal(reader_doc(vetting={"level": "DV"}))


def _item(subject: dict[str, Any], written: str) -> Any:
    return parse_item(
        item_doc(
            subjects=[{**subject, "marking": {"min_vetting": "DV"}}],
            portions=[
                {"id": "p1", "category": "tearline", "text": f"Stop {written} at Hull"},
                {"id": "p2", "category": "source", "text": "QXJKZ source"},
            ],
        )
    )


@settings(max_examples=60, deadline=None)
@given(mention=withheld_mentions())
def test_a_withheld_subject_mentioned_in_a_shown_portion_is_masked_in_stix(
    mention: tuple[dict[str, Any], str, list[str]],
) -> None:
    subject, written, secrets = mention
    item = _item(subject, written)
    decision = decide(SC_READER, item, now=NOW)
    assert decision.subjects == ()
    assert "p1" in decision.portions
    exported = _content(export_bundle(item, decision, policy=POLICY))
    full = export_bundle(item, decide(DV_READER, item, now=NOW), policy=POLICY)
    refiltered = _content(filter_bundle(full, SC_READER, policy=POLICY, now=NOW))
    for secret in secrets:
        assert secret not in exported
        assert secret not in refiltered


def test_filter_stix_over_our_export_gives_what_an_export_for_that_reader_gives() -> None:
    item = _item({"type": "vehicle", "value": "QX12 JKZ"}, "QX12 JKZ")
    agency = parse_principal(reader_doc(employment="agency", vetting={"level": "SC"}))
    full = export_bundle(item, decide(DV_READER, item, now=NOW), policy=POLICY)
    filtered = filter_bundle(full, agency, policy=POLICY, now=NOW)
    direct = export_bundle(item, decide(agency, item, now=NOW), policy=POLICY)
    assert validation_errors(filtered) == []

    def portions(bundle: dict[str, Any]) -> list[tuple[str, str]]:
        return [
            (obj["extensions"][PARTS_EXTENSION]["portion"]["id"], obj["content"])
            for obj in bundle["objects"]
            if obj["type"] == "note"
        ]

    expected = [("p1", "Stop [WITHHELD vehicle] at Hull")]
    assert portions(filtered) == portions(direct) == expected
    assert decide(agency, item, now=NOW).view is View.SANITISED
    assert "QXJKZ source" not in json.dumps(filtered)


def test_importing_the_cli_does_not_import_stix2() -> None:
    code = "import sys, dissemination.cli; print('stix2' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
