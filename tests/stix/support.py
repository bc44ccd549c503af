"""Helpers for the STIX tests: validation, readers who see everything, withheld texts."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from stix2validator import ValidationOptions, validate_instance

from dissemination import Decision, Item, Principal, View, parse_principal
from tests.strategies import GROUPS

DATA = Path(__file__).parent / "data"
"""The public STIX examples (OASIS, BSD-3-Clause; see data/README.md)."""

CORPUS = sorted(path for path in DATA.glob("*.json") if path.name not in {"README.md"})


def validation_errors(bundle: dict[str, Any]) -> list[str]:
    """The STIX validator's errors for a bundle (warnings are not errors)."""
    results = validate_instance(bundle, ValidationOptions(silent=True))
    errors = [str(error.message) for error in results.errors]
    for result in getattr(results, "object_results", []) or []:
        errors.extend(str(error.message) for error in result.errors)
    return errors


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("dissemination.stix").joinpath(f"schemas/{name}.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def check_our_extensions(bundle: dict[str, Any]) -> None:
    """Every use of our extensions in the bundle fits its JSON Schema."""
    from dissemination.stix.constants import LABEL_EXTENSION, PARTS_EXTENSION

    for obj in bundle.get("objects", []):
        extensions = obj.get("extensions", {})
        if LABEL_EXTENSION in extensions:
            jsonschema.validate(extensions[LABEL_EXTENSION], _schema("label"))
        if PARTS_EXTENSION in extensions:
            jsonschema.validate(extensions[PARTS_EXTENSION], _schema("parts"))


def all_seeing_reader(item: Item) -> Principal | None:
    """A reader who passes every rule of the item and of its parts, or None if none can."""
    recipients: set[str] | None = None
    nationalities: set[str] | None = None
    rules = list(item.handling)
    for part in (*item.portions, *item.subjects):
        if part.marking is not None:
            rules.extend(part.marking.handling)
    for rule in rules:
        if rule.kind == "recipients_only":
            names = set(rule.principals)
            recipients = names if recipients is None else recipients & names
        elif rule.kind == "eyes_only":
            codes = set(rule.nationalities)
            nationalities = codes if nationalities is None else nationalities & codes
    if recipients == set() or nationalities == set():
        return None
    return parse_principal(
        {
            "id": sorted(recipients)[0] if recipients else "reader-all",
            "organisation": item.originator.organisation,
            "employment": "crown-servant",
            "vetting": {"level": "eDV"},
            "nationality": sorted(nationalities)[0] if nationalities else "GBR",
            "groups": GROUPS,
        }
    )


def withheld_texts(data: dict[str, Any], decision: Decision) -> list[str]:
    """The texts of every portion and subject not shown (and the title below `sanitised`)."""
    texts = [p["text"] for p in data["portions"] if p["id"] not in decision.portions]
    for index, subject in enumerate(data["subjects"]):
        if index not in decision.subjects:
            texts.append(subject.get("value") or subject["name"])
    if decision.view < View.SANITISED:
        texts.append(data["title"])
    return texts
