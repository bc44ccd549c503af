"""Builders and constants for the registry tests (fixtures are in `conftest.py`)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import pytest

from dissemination import Item, Principal, parse_item, parse_principal
from dissemination.registry import parse_keys

POSTGRES_ENV = "DISSEMINATION_TEST_POSTGRES_URL"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
KEY_TEXT = "k1:" + "a" * 43
KEYS = parse_keys(KEY_TEXT, source="<test>")
NEW_KEY_TEXT = "k2:" + "b" * 43


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need `{POSTGRES_ENV}` (CI sets it to the local server)")
    return url


def table_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}_"


def item(
    item_id: str,
    subjects: list[dict[str, Any]],
    *,
    owner: str = "border-force",
    unit: str = "FIC Hull",
    handling: list[dict[str, Any]] | None = None,
    classification: str = "OFFICIAL-SENSITIVE",
) -> Item:
    """A small valid item about `subjects`, with a tearline."""
    return parse_item(
        {
            "id": item_id,
            "title": f"Title of {item_id} about QXJTITLE",
            "created": "2026-11-20T09:14:00Z",
            "classification": classification,
            "originator": {"organisation": owner, "unit": unit},
            "owner": {"organisation": owner, "unit": unit, "contact": f"{unit}@example.gov.uk"},
            "handling": handling or [],
            "subjects": subjects,
            "portions": [
                {"id": "p1", "category": "tearline", "text": "Stop and examine QXJTEARLINE"},
                {"id": "p2", "category": "source", "text": "Covert source QXJSOURCE"},
            ],
        }
    )


def reader(
    reader_id: str = "reader-1",
    *,
    organisation: str = "border-force",
    level: str | None = "SC",
    employment: str = "crown-servant",
    nationality: str = "GBR",
    roles: tuple[str, ...] = (),
) -> Principal:
    data: dict[str, Any] = {
        "id": reader_id,
        "organisation": organisation,
        "employment": employment,
        "nationality": nationality,
        "roles": list(roles),
    }
    if level is not None:
        data["vetting"] = {"level": level}
    return parse_principal(data)


def container(value: str = "MSCU1234566", **extra: Any) -> dict[str, Any]:
    return {"type": "container", "value": value, **extra}


FIC = reader("fic.hull", organisation="border-force")
"""A principal of the organisation that owns the test items (border-force)."""
AUDITOR = reader("auditor-1", organisation="audit-office", roles=("registry-auditor",))
"""A principal with the default profile's registry auditor role."""
ADMIN = reader("admin-1", organisation="registry-ops", roles=("registry-admin",))
"""A principal with the default profile's registry administrator role."""
