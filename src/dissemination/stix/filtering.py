"""Filter any bundle for one reader: the objects and properties they may see.

Each object becomes an item as `import stix` makes it (object markings to
handling, granular markings to the markings of the properties they select)
and is decided for the reader. The object is then rebuilt from its
structural properties (type, id, times, references, markings) and the
property values the decision shows, masked as the rendered view masks them.
An object below `gist`, or one that STIX would no longer accept without a
withheld property, is left out, and so is every reference to it (a
relationship to a left-out object goes too). Granular markings follow the
properties that stay.

A report of ours (an export of `dissemination`) is not filtered object by
object: the item it holds is decided for the reader and exported again, so
the item's masking (mentions of withheld subjects) holds across its notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dissemination.decision import LabelCheck, decide
from dissemination.models import Principal
from dissemination.policy import Policy
from dissemination.redaction import render_item
from dissemination.stix.export import export_bundle
from dissemination.stix.objects import (
    STRUCTURAL,
    ImportContext,
    object_item,
    object_parts,
    parse_bundle,
    selector_path,
)
from dissemination.stix.ours import our_reports
from dissemination.vocabulary import View

__all__ = ["filter_bundle"]

_DEFINITIONS = frozenset({"marking-definition", "extension-definition"})


def _rebuild(obj: dict[str, Any], kept: dict[tuple[str | int, ...], Any]) -> dict[str, Any]:
    """The object with only its structural properties and the kept leaves (lists compacted)."""
    result: dict[str, Any] = {
        key: value
        for key, value in obj.items()
        if (key in STRUCTURAL or key.endswith(("_ref", "_refs"))) and key != "granular_markings"
    }
    mapping = _index_map(kept)
    for path, value in kept.items():
        new = mapping[path]
        node: Any = result
        for depth, part in enumerate(new):
            last = depth == len(new) - 1
            child: Any = value if last else ([] if isinstance(new[depth + 1], int) else {})
            if isinstance(node, list):
                assert isinstance(part, int)  # noqa: S101 (list paths hold indices)
                if part == len(node):
                    node.append(child)
                node = node[part]
            else:
                if last:
                    node[part] = child
                node = node.setdefault(part, child)
    return result


def _index_map(
    kept: dict[tuple[str | int, ...], Any],
) -> dict[tuple[str | int, ...], tuple[str | int, ...]]:
    """Old path prefix -> new path prefix, for every prefix of a kept leaf."""
    mapping: dict[tuple[str | int, ...], tuple[str | int, ...]] = {}
    counters: dict[tuple[str | int, ...], dict[int, int]] = {}
    for path in kept:
        new: list[str | int] = []
        for depth, part in enumerate(path):
            if isinstance(part, int):
                indices = counters.setdefault(tuple(new), {})
                if part not in indices:
                    indices[part] = len(indices)
                new.append(indices[part])
            else:
                new.append(part)
            mapping[path[: depth + 1]] = tuple(new)
    return mapping


def _selector(path: tuple[str | int, ...]) -> str:
    return ".".join(f"[{part}]" if isinstance(part, int) else part for part in path)


def _granular(
    obj: dict[str, Any], mapping: dict[tuple[str | int, ...], tuple[str | int, ...]]
) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for granular in obj.get("granular_markings", []) or []:
        selectors = []
        for selector in granular.get("selectors", []):
            path = selector_path(str(selector))
            if path in mapping:
                selectors.append(_selector(mapping[path]))
            elif (
                len(path) == 1
                and isinstance(path[0], str)
                and path[0] in STRUCTURAL | {key for key in obj if key.endswith(("_ref", "_refs"))}
            ):
                selectors.append(str(selector))
        if selectors:
            kept.append({**granular, "selectors": selectors})
    return kept


_REQUIRED_WITH_DEFAULT = {"indicator": ("valid_from",)}
"""Properties STIX 2.1 requires that python-stix2 would fill in (`valid_from`: now) if missing."""


def _stix_accepts(obj: dict[str, Any]) -> bool:
    import stix2  # noqa: PLC0415 (an optional extra)
    from stix2.exceptions import STIXError  # noqa: PLC0415

    required = _REQUIRED_WITH_DEFAULT.get(str(obj.get("type")), ())
    if any(name not in obj for name in required):
        return False
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError, AttributeError):
        return False
    return True


def _drop_refs(obj: dict[str, Any], present: set[str]) -> dict[str, Any] | None:
    result = dict(obj)
    for key, value in obj.items():
        if key in {"object_marking_refs"}:
            continue
        if key.endswith("_refs") and isinstance(value, list):
            remaining = [ref for ref in value if ref in present]
            if remaining:
                result[key] = remaining
            else:
                del result[key]
        elif key.endswith("_ref") and isinstance(value, str) and value not in present:
            if key in {"source_ref", "target_ref", "sighting_of_ref"}:
                return None
            del result[key]
    return result if _stix_accepts(result) else None


def _filter_object(
    obj: dict[str, Any],
    reader: Principal,
    context: ImportContext,
    *,
    label_check: LabelCheck | None,
) -> dict[str, Any] | None:
    """The object as the reader may see it, or None when they get less than a gist."""
    imported = object_item(obj, context)
    decision = decide(
        reader, imported.item, now=context.now, policy=context.policy, label_check=label_check
    )
    if decision.view < View.GIST:
        return None
    rendered = render_item(imported.item, decision) or {}
    texts = {portion["id"]: portion["text"] for portion in rendered.get("portions", [])}
    originals = {portion.id: portion.text for portion in imported.item.portions}
    leaves = object_parts(obj)
    shown: dict[tuple[str | int, ...], Any] = {}
    for portion_id, path in imported.paths.items():
        if portion_id not in texts:
            continue
        value = leaves[path]
        if isinstance(value, str):
            shown[path] = texts[portion_id]  # masked as the rendered view masks it
        elif texts[portion_id] == originals[portion_id]:
            shown[path] = value  # a number or flag shown whole; a masked one is left out
    rebuilt = _rebuild(obj, shown)
    granular = _granular(obj, _index_map(shown))
    if granular:
        rebuilt["granular_markings"] = granular
    return rebuilt if _stix_accepts(rebuilt) else None


def filter_bundle(
    data: Any,
    reader: Principal,
    *,
    policy: Policy,
    now: dt.datetime,
    label_check: LabelCheck | None = None,
    receiver: str | None = None,
    recipients: tuple[str, ...] = (),
    source: str = "<bundle>",
) -> dict[str, Any]:
    """The bundle one reader may see: objects, properties and markings.

    Args:
        data: the parsed bundle.
        reader: the reader.
        policy: the profile (rows and `stix` tables).
        now: the time of the decision.
        label_check: a label-integrity check for `decide`, if any.
        receiver: the importing organisation (`$receiver` in the TLP table).
        recipients: the named recipients (`$recipients`).
        source: where the bundle came from, for messages.

    Returns:
        A bundle with the same id holding what the reader may see.

    Raises:
        InputError: not a STIX 2.1 bundle, or the profile has no `stix` tables.
    """
    objects = parse_bundle(data, source=source)
    context = ImportContext(
        objects, policy=policy, receiver=receiver, recipients=recipients, now=now
    )
    kept: list[dict[str, Any]] = []
    ours, consumed = our_reports(objects, context)
    fresh: dict[str, dict[str, Any]] = {}
    for _, entry in ours:
        # One of our exports: decide the item it holds for this reader and export again,
        # so the item's own masking (mentions of withheld subjects) holds across objects.
        if entry.problems:
            continue
        decision = decide(reader, entry.item, now=now, policy=policy, label_check=label_check)
        for obj in export_bundle(entry.item, decision, policy=policy).get("objects", []):
            fresh[str(obj["id"])] = obj
    for obj in objects:
        if obj.get("type") in _DEFINITIONS or str(obj.get("id")) in consumed:
            continue
        rebuilt = _filter_object(obj, reader, context, label_check=label_check)
        if rebuilt is not None:
            kept.append(rebuilt)
    while True:
        present = {str(obj["id"]) for obj in kept}
        present.update(str(obj["id"]) for obj in objects if obj.get("type") in _DEFINITIONS)
        survivors = [s for s in (_drop_refs(obj, present) for obj in kept) if s is not None]
        if len(survivors) == len(kept):
            kept = survivors
            break
        kept = survivors
    used: set[str] = set()
    for obj in kept:
        used.update(obj.get("object_marking_refs", []) or [])
        used.update(g.get("marking_ref", "") for g in obj.get("granular_markings", []) or [])
        used.update((obj.get("extensions") or {}).keys())
    definitions = [
        obj for obj in objects if obj.get("type") in _DEFINITIONS and str(obj["id"]) in used
    ]
    known = {str(obj["id"]) for obj in definitions}
    extra = [obj for object_id, obj in fresh.items() if object_id not in known]
    bundle: dict[str, Any] = {"type": "bundle", "id": data["id"]}
    if definitions or kept or extra:
        bundle["objects"] = [*definitions, *extra, *kept]
    return bundle
