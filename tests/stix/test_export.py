"""Export per reader (issue 16, deliver 1): valid STIX 2.1, exactly what the reader may see."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from dissemination import View, decide, default_policy, load_item, load_principal, parse_item
from dissemination.cli import main
from dissemination.stix.constants import LABEL_EXTENSION, PARTS_EXTENSION, TLP2_IDS, tlp_rank
from dissemination.stix.export import export_bundle
from tests.stix.support import check_our_extensions, validation_errors, withheld_texts
from tests.strategies import NOW, item_data, item_doc, principals, reader_doc

DEMO = Path(__file__).resolve().parents[2] / "src" / "dissemination" / "demo" / "humber"
POLICY = default_policy()
EXPORT_SETTINGS = settings(max_examples=100, deadline=None)


def _by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in bundle.get("objects", []) if obj["type"] == kind]


def _label(bundle: dict[str, Any]) -> dict[str, Any]:
    labels = [
        obj["extensions"][LABEL_EXTENSION]["label"]
        for obj in _by_type(bundle, "marking-definition")
        if "label" in obj.get("extensions", {}).get(LABEL_EXTENSION, {})
    ]
    assert len(labels) == 1
    label: dict[str, Any] = labels[0]
    return label


@pytest.mark.parametrize("item_path", sorted((DEMO / "items").glob("*.yaml")), ids=lambda p: p.stem)
def test_demo_exports_validate_for_every_reader(item_path: Path) -> None:
    item = load_item(item_path)
    for reader_path in sorted((DEMO / "readers").glob("*.yaml")):
        decision = decide(load_principal(reader_path), item, now=NOW)
        bundle = export_bundle(item, decision, policy=POLICY)
        assert validation_errors(bundle) == [], (item.id, reader_path.stem)
        check_our_extensions(bundle)


@EXPORT_SETTINGS
@given(data=item_data(), reader=principals())
def test_export_validates_and_withholds(data: dict[str, Any], reader: Any) -> None:
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    bundle = export_bundle(item, decision, policy=POLICY)
    assert validation_errors(bundle) == []
    check_our_extensions(bundle)
    text = json.dumps(bundle, ensure_ascii=False)
    for secret in withheld_texts(data, decision):
        assert secret not in text
    notes = _by_type(bundle, "note")
    assert [n["extensions"][PARTS_EXTENSION]["portion"]["id"] for n in notes] == list(
        decision.portions
    )
    if decision.view is View.NONE:
        assert set(bundle) == {"type", "id"}


def test_none_bundle_is_the_same_for_every_item() -> None:
    hidden = parse_item(item_doc(handling=[{"kind": "recipients_only", "principals": ["x"]}]))
    reader = load_principal(DEMO / "readers" / "dv-analyst.yaml")
    decision = decide(reader, hidden, now=NOW)
    assert decision.view is View.NONE
    bundle = export_bundle(hidden, decision, policy=POLICY)
    assert set(bundle) == {"type", "id"}
    assert bundle["type"] == "bundle"


def test_report_is_created_by_the_originator_and_carries_label_and_tlp() -> None:
    item = parse_item(
        item_doc(
            classification="OFFICIAL-SENSITIVE",
            handling=[{"kind": "eyes_only", "nationalities": ["GBR"]}],
            subjects=[
                {"type": "email", "value": "QXJ@example.org"},
                {"type": "person", "name": "QXJ KZZ", "date_of_birth": "1980-02-29"},
                {"type": "vehicle", "value": "QX12 JKZ"},
            ],
        )
    )
    decision = decide(parse_principal_doc(), item, now=NOW)
    assert decision.view is View.FULL
    bundle = export_bundle(item, decision, policy=POLICY)
    (report,) = _by_type(bundle, "report")
    creator = next(obj for obj in bundle["objects"] if obj["id"] == report["created_by_ref"])
    assert creator["name"] == "border-force"
    assert creator["extensions"][PARTS_EXTENSION]["party"]["role"] == "originator"
    # eyes_only maps to red, above OFFICIAL-SENSITIVE's amber: never less restrictive
    tlp = [ref for ref in report["object_marking_refs"] if ref in TLP2_IDS]
    assert [TLP2_IDS[ref] for ref in tlp] == ["red"]
    assert _label(bundle)["handling"] == [{"kind": "eyes_only", "nationalities": ["GBR"]}]
    assert [o["value"] for o in _by_type(bundle, "email-addr")] == ["QXJ@example.org"]
    people = [o for o in _by_type(bundle, "identity") if o["identity_class"] == "individual"]
    assert [p["name"] for p in people] == ["QXJ KZZ"]
    (vehicle,) = _by_type(bundle, "dissemination-subject")
    assert vehicle["subject"] == {"type": "vehicle", "value": "QX12 JKZ"}


def parse_principal_doc() -> Any:
    from dissemination import parse_principal

    return parse_principal(reader_doc())


def test_subject_ids_are_random_never_derived_from_the_value() -> None:
    item = parse_item(item_doc(subjects=[{"type": "email", "value": "QXJ@example.org"}]))
    decision = decide(parse_principal_doc(), item, now=NOW)
    first = _by_type(export_bundle(item, decision, policy=POLICY), "email-addr")[0]["id"]
    second = _by_type(export_bundle(item, decision, policy=POLICY), "email-addr")[0]["id"]
    assert first != second
    assert uuid.UUID(first.split("--")[1]).version == 4


@EXPORT_SETTINGS
@given(data=item_data(), reader=principals())
def test_tlp_hint_is_never_below_the_exported_label(data: dict[str, Any], reader: Any) -> None:
    item = parse_item(data)
    decision = decide(reader, item, now=NOW)
    if decision.view < View.GIST:
        return
    bundle = export_bundle(item, decision, policy=POLICY)
    (report,) = _by_type(bundle, "report")
    (hint,) = [TLP2_IDS[ref] for ref in report["object_marking_refs"] if ref in TLP2_IDS]
    tables = POLICY.stix.export  # type: ignore[union-attr]
    label = _label(bundle)
    floor = [tables.tlp_by_classification[label["classification"]]]
    floor += [tables.tlp_by_handling[rule["kind"]] for rule in label.get("handling", [])]
    assert all(tlp_rank(hint) >= tlp_rank(level) for level in floor)


def test_cli_export_writes_a_valid_bundle(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "stix",
            str(DEMO / "items" / "hum-001-container.yaml"),
            "--as",
            str(DEMO / "readers" / "agency-frontline.yaml"),
            "--now",
            "2026-11-27T10:00:00Z",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    assert validation_errors(bundle) == []
    assert _label(bundle)["view"] == "gist"


def test_cli_export_bad_item_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "item.json"
    bad.write_text("{}")
    result = CliRunner().invoke(
        main, ["export", "stix", str(bad), "--as", str(DEMO / "readers" / "dv-analyst.yaml")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
