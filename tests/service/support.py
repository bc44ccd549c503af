"""Helpers of the service tests: documents, envelopes and applications."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from dissemination import default_policy, load_item, load_principal
from dissemination.service.app import ServiceConfig, create_app
from dissemination.service.auth import CallerFile, PropertiesReader, ReaderSource
from dissemination.service.state import Active, PolicySlot, ServiceState

ROOT = Path(__file__).resolve().parents[2]
HUMBER = ROOT / "examples" / "humber"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
WHEN = {"time": "2026-11-27T10:00:00Z"}

ITEMS = {
    "container": "hum-001-container.yaml",
    "vehicle": "hum-002-vehicle.yaml",
    "vessel": "hum-003-vessel.yaml",
    "person": "hum-004-person.yaml",
    "embargo": "hum-005-embargo.yaml",
    "recipients": "hum-006-recipients.yaml",
    "uk-eyes": "hum-007-uk-eyes.yaml",
}
READERS = {
    "agency": "agency-frontline.yaml",
    "officer": "bf-intel-officer.yaml",
    "analyst": "dv-analyst.yaml",
    "liaison": "foreign-liaison.yaml",
    "hmrc": "hmrc-expired.yaml",
    "nca": "nca-partner.yaml",
}


def item_doc(name: str) -> dict[str, Any]:
    """An example item as JSON-ready data."""
    item = load_item(HUMBER / "items" / ITEMS[name])
    return item.model_dump(mode="json", exclude_none=True)


def reader_doc(name: str) -> dict[str, Any]:
    """An example reader as JSON-ready data."""
    reader = load_principal(HUMBER / "readers" / READERS[name])
    return reader.model_dump(mode="json", exclude_none=True)


def envelope(reader: str, item: str, action: str = "view:gist") -> dict[str, Any]:
    """An AuthZEN evaluation request for an example reader and item."""
    principal = reader_doc(reader)
    document = item_doc(item)
    return {
        "subject": {"type": "principal", "id": principal["id"], "properties": principal},
        "resource": {"type": "item", "id": document["id"], "properties": document},
        "action": {"name": action},
        "context": dict(WHEN),
    }


def make_app(
    *,
    readers: ReaderSource | None = None,
    callers: CallerFile | None = None,
    trail: Any = None,
    slot: PolicySlot | None = None,
    registry: Any = None,
    max_skew: dt.timedelta | None = None,
) -> Starlette:
    """An application over the default policy (revision `local`)."""
    state = ServiceState(
        slot=slot or PolicySlot(Active(default_policy(), "local", "default")),
        trail=trail,
        clock=lambda: NOW,
        max_skew=max_skew,
    )
    return create_app(
        ServiceConfig(
            state=state,
            readers=readers or PropertiesReader(),
            callers=callers,
            registry=registry,
        )
    )
