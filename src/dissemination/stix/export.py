"""Export per reader: a STIX 2.1 bundle of exactly what one reader may see.

The bundle is built from the rendered view (`dissemination.render_item`),
never from the item: whatever the decision withheld or masked is not in the
input of this module, so it cannot reach the bundle. What it holds:

- a `report` (the item), created by the originator's `identity` (the owner's
  at `gist` and `pointer`, where the originator is not shown);
- each shown portion as a `note`, each shown subject as an `email-addr`, an
  `identity` (people and organisations) or our `dissemination-subject` SCO;
- the owner as an `identity`;
- the label, and each part's own marking, in a `marking-definition` with our
  property extension (`LABEL_EXTENSION`), defined by an `extension-definition`
  whose schema is a JSON Schema;
- a TLP 2.0 marking as a hint, from the profile's `stix.export` tables: the
  most restrictive level among the exported label's terms.

Every id is random (uuid4), so no id can be recomputed from a subject's value.
The label's signature travels only when nothing was withheld or masked: a
signature over content the reader does not get would confirm guesses of it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import cache
from importlib import resources
from typing import Any

from dissemination.decision import Decision
from dissemination.errors import InputError
from dissemination.models import Item
from dissemination.policy import Policy
from dissemination.redaction import render, render_item
from dissemination.stix.constants import (
    LABEL_EXTENSION,
    PARTS_EXTENSION,
    PRODUCER_IDENTITY,
    SUBJECT_TYPE,
    TLP2_EXTENSION,
    TLP2_IDS,
    TlpLevel,
    tlp_rank,
)
from dissemination.stix.profile import StixProfile
from dissemination.vocabulary import View

__all__ = ["export_bundle", "extension_definitions", "schema_text", "stix_tables", "tlp_marking"]

_DEFINED = "2026-12-01T00:00:00.000Z"
"""When our extension definitions were made (fixed: they are the same in every bundle)."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
"""An address `email-addr` can hold; any other email subject goes in our subject SCO."""

_TLP2_CREATED = "2022-10-01T00:00:00.000Z"
_TLP2_BY_LEVEL = {level: md_id for md_id, level in TLP2_IDS.items()}


def stix_tables(policy: Policy) -> StixProfile:
    """The profile's `stix:` tables.

    Raises:
        InputError: the profile has no `stix:` section.
    """
    tables = policy.stix
    if tables is None:
        raise InputError(f"profile `{policy.name}` has no `stix` tables")
    return tables


@cache
def schema_text(name: str) -> str:
    """The JSON Schema of one of our extensions (`label` or `parts`), compact."""
    text = resources.files("dissemination.stix").joinpath(f"schemas/{name}.json").read_text()
    return json.dumps(json.loads(text), separators=(",", ":"))


def stix_time(text: str) -> str:
    """An ISO 8601 time with a zone as a STIX timestamp (UTC, `Z`, milliseconds)."""
    moment = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def extension_definitions() -> list[dict[str, Any]]:
    """Our two extension definitions and the identity that made them (fixed ids)."""
    producer = {
        "type": "identity",
        "spec_version": "2.1",
        "id": PRODUCER_IDENTITY,
        "created": _DEFINED,
        "modified": _DEFINED,
        "name": "dissemination",
        "identity_class": "system",
    }
    label = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": LABEL_EXTENSION,
        "created_by_ref": PRODUCER_IDENTITY,
        "created": _DEFINED,
        "modified": _DEFINED,
        "name": "dissemination label",
        "description": "The dissemination label of an item, or the marking of one of its "
        "portions or subjects, on a marking definition.",
        "schema": schema_text("label"),
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    parts = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": PARTS_EXTENSION,
        "created_by_ref": PRODUCER_IDENTITY,
        "created": _DEFINED,
        "modified": _DEFINED,
        "name": "dissemination parts",
        "description": "Which portion a note holds, which subject an observable or identity "
        "stands for, and the subject SCO for types STIX lacks.",
        "schema": schema_text("parts"),
        "version": "1.0.0",
        "extension_types": ["property-extension", "new-sco"],
    }
    return [producer, label, parts]


def tlp_marking(level: TlpLevel) -> dict[str, Any]:
    """The TLP 2.0 marking definition of a level, with its fixed id."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _TLP2_BY_LEVEL[level],
        "created": _TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level},
        },
    }


def _most(levels: list[TlpLevel]) -> TlpLevel:
    return max(levels, key=tlp_rank)


def _label_tlp(tables: StixProfile, label: dict[str, Any]) -> TlpLevel:
    export = tables.export
    levels: list[TlpLevel] = [export.classification(label["classification"])]
    if "required_vetting" in label:
        levels.append(export.vetting(label["required_vetting"]))
    levels.extend(export.handling(rule["kind"]) for rule in label.get("handling", ()))
    return _most(levels)


def _marking_tlp(tables: StixProfile, marking: dict[str, Any], floor: TlpLevel) -> TlpLevel:
    export = tables.export
    levels: list[TlpLevel] = [floor]
    if marking.get("min_vetting"):
        levels.append(export.vetting(marking["min_vetting"]))
    levels.extend(export.handling(rule["kind"]) for rule in marking.get("handling", ()))
    return _most(levels)


def _signature_travels(item: Item, decision: Decision) -> bool:
    return (
        item.signature is not None
        and decision.view is View.FULL
        and len(decision.portions) == len(item.portions)
        and len(decision.subjects) == len(item.subjects)
        and not decision.masks
    )


class _Builder:
    """Collects the objects of one bundle (small, local to one export)."""

    def __init__(self, tables: StixProfile, created: str) -> None:
        self.tables = tables
        self.created = created
        self.objects: list[dict[str, Any]] = []
        self.tlp_used: set[TlpLevel] = set()

    def add(self, obj: dict[str, Any]) -> str:
        self.objects.append(obj)
        return str(obj["id"])

    def sdo(self, kind: str, **properties: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "spec_version": "2.1",
            "id": _new_id(kind),
            "created": self.created,
            "modified": self.created,
            **properties,
        }

    def label_marking(self, name: str, content: dict[str, Any]) -> str:
        return self.add(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": _new_id("marking-definition"),
                "created": self.created,
                "name": name,
                "extensions": {
                    LABEL_EXTENSION: {"extension_type": "property-extension", **content}
                },
            }
        )

    def tlp(self, level: TlpLevel) -> str:
        self.tlp_used.add(level)
        return _TLP2_BY_LEVEL[level]

    def party(self, role: str, party: dict[str, Any], refs: list[str]) -> str:
        detail: dict[str, Any] = {"role": role, "unit": party["unit"]}
        if "contact" in party:
            detail["contact"] = party["contact"]
        return self.add(
            self.sdo(
                "identity",
                name=party["organisation"],
                identity_class="organization",
                object_marking_refs=refs,
                extensions={
                    PARTS_EXTENSION: {"extension_type": "property-extension", "party": detail}
                },
            )
        )

    def part_markings(
        self, part: dict[str, Any], item_refs: list[str], floor: TlpLevel
    ) -> list[str]:
        """The marking refs of a portion or subject: the item's label, its own, its TLP."""
        refs = [item_refs[0]]
        marking = part.get("marking")
        level = floor
        if marking:
            refs.append(self.label_marking("dissemination marking", {"marking": marking}))
            level = _marking_tlp(self.tables, marking, floor)
        refs.append(self.tlp(level))
        return refs

    def subject(self, subject: dict[str, Any], refs: list[str]) -> str:
        detail: dict[str, Any] = {"type": subject["type"]}
        if "id" in subject:
            detail["id"] = subject["id"]
        kind = subject["type"]
        if kind == "email" and _EMAIL.fullmatch(subject["value"]):
            detail_ext = {
                PARTS_EXTENSION: {"extension_type": "property-extension", "subject": detail}
            }
            obj = {
                "type": "email-addr",
                "spec_version": "2.1",
                "id": _new_id("email-addr"),
                "value": subject["value"],
                "object_marking_refs": refs,
                "extensions": detail_ext,
            }
        elif kind in {"person", "organisation"}:
            if kind == "person" and "date_of_birth" in subject:
                detail["date_of_birth"] = subject["date_of_birth"]
            obj = self.sdo(
                "identity",
                name=subject["name"] if kind == "person" else subject["value"],
                identity_class="individual" if kind == "person" else "organization",
                object_marking_refs=refs,
                extensions={
                    PARTS_EXTENSION: {"extension_type": "property-extension", "subject": detail}
                },
            )
        else:
            detail["value"] = subject["value"]
            if "country" in subject:
                detail["country"] = subject["country"]
            obj = {
                "type": SUBJECT_TYPE,
                "spec_version": "2.1",
                "id": _new_id(SUBJECT_TYPE),
                "subject": detail,
                "object_marking_refs": refs,
                "extensions": {PARTS_EXTENSION: {"extension_type": "new-sco"}},
            }
        return self.add(obj)


def _label(rendered: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    label: dict[str, Any] = {
        "id": rendered["id"],
        "created": rendered["created"],
        "view": document["view"],
        "owner": rendered["owner"],
    }
    if "referral" in rendered:
        label["referral"] = rendered["referral"]
    for key in ("classification", "required_vetting", "originator", "handling", "grading"):
        if key in rendered:
            label[key] = rendered[key]
    if "consents" in rendered:
        label["consents"] = rendered["consents"]
    if document.get("conditions"):
        label["conditions"] = document["conditions"]
    return label


def export_bundle(item: Item, decision: Decision, *, policy: Policy) -> dict[str, Any]:
    """The STIX 2.1 bundle of what one reader may see of an item.

    Args:
        item: the item decided on.
        decision: the decision for the reader (decide first).
        policy: the profile that decided (its `stix.export` tables).

    Returns:
        The bundle as JSON-ready data; at `none`, a bundle with no objects
        and a random id: nothing in it depends on the item.

    Raises:
        InputError: the profile has no `stix` tables.
        ValueError: the decision is for another item.
    """
    tables = stix_tables(policy)
    rendered = render_item(item, decision)
    bundle: dict[str, Any] = {"type": "bundle", "id": _new_id("bundle")}
    if rendered is None:
        return bundle
    document = render(item, decision)
    created = stix_time(rendered["created"])
    builder = _Builder(tables, created)
    label = _label(rendered, document)
    if _signature_travels(item, decision):
        assert item.signature is not None  # noqa: S101 (checked just above)
        label["signature"] = item.signature.model_dump(mode="json")
    label_ref = builder.label_marking(f"dissemination label {item.id}", {"label": label})
    if decision.view is View.POINTER:
        level: TlpLevel = tables.export.tlp_at_pointer
    else:
        level = _label_tlp(tables, label)
    item_refs = [label_ref, builder.tlp(level)]
    owner_ref = builder.party("owner", rendered["owner"], item_refs)
    creator = owner_ref
    if "originator" in rendered:
        creator = builder.party("originator", rendered["originator"], item_refs)
    report_id = _new_id("report")
    content: list[str] = []
    for portion in rendered.get("portions", ()):
        refs = builder.part_markings(portion, item_refs, level)
        note = builder.sdo(
            "note",
            content=portion["text"],
            object_refs=[report_id],
            created_by_ref=creator,
            object_marking_refs=refs,
            extensions={
                PARTS_EXTENSION: {
                    "extension_type": "property-extension",
                    "portion": {"id": portion["id"], "category": portion["category"]},
                }
            },
        )
        content.append(builder.add(note))
    for subject in rendered.get("subjects", ()):
        refs = builder.part_markings(subject, item_refs, level)
        content.append(builder.subject(subject, refs))
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": report_id,
        "created": created,
        "modified": created,
        "created_by_ref": creator,
        "name": rendered.get("title", rendered["id"]),
        "report_types": ["threat-report"],
        "published": created,
        "object_refs": [*content, owner_ref],
        "object_marking_refs": item_refs,
    }
    builder.add(report)
    tlp_objects = [tlp_marking(used) for used in sorted(builder.tlp_used, key=tlp_rank)]
    bundle["objects"] = [*extension_definitions(), *tlp_objects, *builder.objects]
    return _through_stix2(bundle)


def _through_stix2(bundle: dict[str, Any]) -> dict[str, Any]:
    """Parse the bundle with python-stix2 and serialise it again: its checks hold.

    python-stix2 refuses what STIX 2.1 does not allow (a missing required
    property, a malformed id or timestamp); every bundle we write passes it.
    """
    import stix2  # noqa: PLC0415 (an optional extra: imported only when exporting)

    parsed = stix2.parse(bundle, allow_custom=True, version="2.1")
    data: dict[str, Any] = json.loads(parsed.serialize())
    return data
