"""Import: STIX 2.1 bundles become items, markings become handling, fail closed.

- A `report` carrying our label becomes the item it was made from
  (`dissemination.stix.ours`).
- Any other object, except marking and extension definitions, relationships,
  sightings, and the identities that created other objects, becomes one item
  (`dissemination.stix.objects.object_item`).
- The summary names every marking definition and what it maps to, every item
  and the markings mapped for it, and what could not be mapped, by id and
  kind, never by value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from dissemination.policy import Policy
from dissemination.stix.objects import (
    NOT_ITEMS,
    ImportContext,
    Imported,
    describe,
    object_item,
    parse_bundle,
)
from dissemination.stix.ours import our_reports

__all__ = ["ImportResult", "Imported", "import_bundle"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a bundle gave: items, the objects that gave none (with why), the definitions read.

    Attributes:
        items: the items made.
        skipped: one line per object that gave no item.
        definitions: one line per marking definition in the bundle: what it maps to.
    """

    items: tuple[Imported, ...]
    skipped: tuple[str, ...]
    definitions: tuple[str, ...] = ()

    def summary(self) -> list[str]:
        """One line per definition, item and skipped object: ids, marking names; no values."""
        lines: list[str] = list(self.definitions)
        if not self.items:
            lines.append("no items: the bundle holds no object that becomes an item")
        for entry in self.items:
            state = "shown to nobody" if entry.problems else "imported"
            mapped = "; ".join(entry.mapped) or "no markings"
            line = f"{entry.source}: {state} as `{entry.item.id}` ({mapped})"
            if entry.problems:
                line += " - not mapped: " + "; ".join(entry.problems)
            lines.append(line)
        lines.extend(self.skipped)
        return lines


def import_bundle(
    data: Any,
    *,
    policy: Policy,
    now: dt.datetime,
    receiver: str | None = None,
    recipients: tuple[str, ...] = (),
    source: str = "<bundle>",
) -> ImportResult:
    """Turn a STIX 2.1 bundle into items, mapping markings to handling (fail closed).

    Args:
        data: the parsed bundle.
        policy: the profile (its `stix.import` tables).
        now: the creation time of objects that carry none (SCOs).
        receiver: the importing organisation (`$receiver` in the TLP table).
        recipients: the named recipients (`$recipients`, for TLP:RED).
        source: where the bundle came from, for messages.

    Returns:
        The items and what was mapped; objects that gave no item, with why.

    Raises:
        InputError: not a STIX 2.1 bundle, or the profile has no `stix` tables.
    """
    objects = parse_bundle(data, source=source)
    context = ImportContext(
        objects, policy=policy, receiver=receiver, recipients=recipients, now=now
    )
    items: list[Imported] = []
    skipped: list[str] = []
    creators = {str(obj.get("created_by_ref")) for obj in objects if obj.get("created_by_ref")}
    ours, consumed = our_reports(objects, context)
    items.extend(entry for _, entry in ours)
    for obj in objects:
        object_id = str(obj.get("id"))
        kind = str(obj.get("type"))
        if object_id in consumed or kind in NOT_ITEMS:
            if kind in {"relationship", "sighting"}:
                skipped.append(f"{object_id}: not imported (a {kind} is not an item)")
            continue
        if kind == "identity" and object_id in creators:
            continue
        items.append(object_item(obj, context))
    definitions = []
    for obj in objects:
        if obj.get("type") == "marking-definition":
            meaning = context.markings.meaning(obj.get("id"), originator="$originator")
            state = f"not mapped: {meaning.problem}" if meaning.problem else describe(meaning)
            definitions.append(f"{obj.get('id')}: {state}")
    return ImportResult(tuple(items), tuple(skipped), tuple(definitions))
