"""Any STIX object as an item: its properties the portions, its markings the handling.

The pieces `import stix` and `filter-stix` share: checking a bundle
(`parse_bundle`), an object's content leaves by property path
(`object_parts`), the import context (`ImportContext`: the bundle's objects,
its marking definitions read against the profile's tables), and
`object_item`, which makes one item of one object:

- its `name` the title (unless a granular marking selects `name`), each
  property value (down to list elements) one `narrative` portion whose id is
  the property path (`indicator_types.1`);
- object markings the item's handling (TLP through the profile's table; ACS
  3.0 to classification, eyes-only, releasable-to; statements to
  descriptors); granular markings the markings of the portions their
  selectors reach;
- a marking that cannot be mapped, or a reference to a marking definition
  neither in the bundle nor a known TLP one: the item is shown to nobody
  (`recipients_only` of the reserved id `NOBODY`), and the problem is
  recorded for the summary, naming the kind of problem, never a value.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from dissemination.errors import DocumentError, InputError
from dissemination.loading import parse_item
from dissemination.models import Item
from dissemination.policy import Policy
from dissemination.stix.export import stix_tables
from dissemination.stix.markings import NOBODY, MarkingReader, Meaning

__all__ = [
    "NOT_ITEMS",
    "STRUCTURAL",
    "ImportContext",
    "Imported",
    "describe",
    "finish_item",
    "object_item",
    "object_parts",
    "parse_bundle",
    "safe_type",
    "selector_path",
]

NOT_ITEMS = frozenset(
    {"marking-definition", "extension-definition", "relationship", "sighting", "language-content"}
)
"""Object types that do not become items of their own."""

STRUCTURAL = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "created_by_ref",
        "object_marking_refs",
        "granular_markings",
        "revoked",
        "defanged",
    }
)
"""Properties that describe the object, not its content: never portions."""

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Imported:
    """One item made from a bundle, and what was mapped to make it.

    Attributes:
        source: the STIX id of the object (or report) it came from.
        item: the item.
        mapped: the markings mapped (`TLP:AMBER -> releasable_to`).
        problems: what could not be mapped; when any, the item is shown to nobody.
        paths: for each portion id, the property path it holds (generic objects).
    """

    source: str
    item: Item
    mapped: tuple[str, ...]
    problems: tuple[str, ...]
    paths: dict[str, tuple[str | int, ...]]


def parse_bundle(data: Any, *, source: str) -> list[dict[str, Any]]:
    """Check a bundle with python-stix2 and give its objects.

    Raises:
        InputError: not a STIX 2.1 bundle python-stix2 accepts (the reason
            is named by its kind, never by quoting the input).
    """
    import stix2  # noqa: PLC0415 (an optional extra)
    from stix2.exceptions import STIXError  # noqa: PLC0415

    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise InputError("not a STIX bundle (`type` is not `bundle`)", source=source)
    objects = data.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise InputError("bundle `objects` is not a list of objects", source=source)
    if not isinstance(data.get("id"), str) or not data["id"].startswith("bundle--"):
        raise InputError("bundle `id` is missing or not a bundle id", source=source)
    for index, obj in enumerate(objects):
        kind, object_id = obj.get("type"), obj.get("id")
        # python-stix2 makes up a missing id or timestamp; an object must bring its own.
        if not isinstance(kind, str) or not isinstance(object_id, str):
            raise InputError(f"bundle `objects.{index}` has no `type` or `id`", source=source)
        if not object_id.startswith(f"{kind}--"):
            raise InputError(f"bundle `objects.{index}.id` does not name its type", source=source)
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = obj.get("type") if isinstance(obj.get("type"), str) else "object"
            raise InputError(
                f"bundle `objects.{index}` ({safe_type(kind)}) is not valid STIX 2.1 "
                f"({type(exc).__name__})",
                source=source,
            ) from exc
    return objects


def safe_type(term: str) -> str:
    """A STIX type as it may appear in a message (an unusual one is not quoted)."""
    return term if re.fullmatch(r"[a-z0-9-]{1,40}", term) else "an unknown type"


def object_parts(obj: dict[str, Any]) -> dict[tuple[str | int, ...], Any]:
    """The content leaves of an object, by property path (structural properties left out)."""
    leaves: dict[tuple[str | int, ...], Any] = {}

    def walk(path: tuple[str | int, ...], value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk((*path, key), inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk((*path, index), inner)
        elif value is not None and value != "":
            leaves[path] = value

    for key, value in obj.items():
        if key in STRUCTURAL or key.endswith(("_ref", "_refs")):
            continue
        walk((key,), value)
    return leaves


def selector_path(selector: str) -> tuple[str | int, ...]:
    """A granular-marking selector as a property path (`a.[1].b` -> `("a", 1, "b")`)."""
    parts: list[str | int] = []
    for piece in selector.split("."):
        match = _INDEX.fullmatch(piece)
        parts.append(int(match.group(1)) if match else piece)
    return tuple(parts)


def _portion_id(path: tuple[str | int, ...]) -> str:
    text = ".".join(str(part) for part in path)
    return re.sub(r"[^A-Za-z0-9._:/-]", "-", text)[:128] or "p"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class ImportContext:
    """One bundle being imported: its objects, its markings, the import options."""

    def __init__(
        self,
        objects: list[dict[str, Any]],
        *,
        policy: Policy,
        receiver: str | None,
        recipients: tuple[str, ...],
        now: dt.datetime,
    ) -> None:
        """Read the bundle's marking definitions against the profile's tables.

        Args:
            objects: the bundle's objects (checked by `parse_bundle`).
            policy: the profile.
            receiver: the importing organisation (`$receiver`), if known.
            recipients: the named recipients (`$recipients`).
            now: the creation time of objects that carry none.

        Raises:
            InputError: the profile has no `stix` tables.
        """
        self.policy = policy
        self.tables = stix_tables(policy)
        self.now = now
        self.by_id = {str(obj.get("id")): obj for obj in objects}
        definitions = {
            str(obj["id"]): obj for obj in objects if obj.get("type") == "marking-definition"
        }
        self.markings = MarkingReader(
            definitions,
            policy=policy,
            tables=self.tables,
            receiver=receiver,
            recipients=recipients,
        )

    def party(self, obj: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        """The originator and owner of an object, from its creator's identity."""
        creator = self.by_id.get(str(obj.get("created_by_ref")))
        name = "unattributed"
        contact = "not given"
        if creator is not None and creator.get("type") == "identity":
            name = " ".join(str(creator.get("name", name)).split())[:200] or name
            contact = " ".join(str(creator.get("contact_information", contact)).split())[:200]
        organisation = self.tables.import_.organisations.get(name, name)
        originator = {"organisation": organisation, "unit": "STIX import"}
        return originator, {**originator, "contact": contact or "not given"}


def _highest(policy: Policy, classifications: list[str], default: str) -> str:
    order = list(policy.vocabulary.classifications)
    known = [c for c in classifications if c in order] or [default]
    return max(known, key=order.index)


def describe(meaning: Meaning) -> str:
    """How the summary names a marking and what it mapped to (kinds, never values)."""
    kinds = ", ".join(rule.kind for rule in meaning.handling)
    if meaning.classification is not None:
        kinds = ", ".join(filter(None, (f"classification {meaning.classification}", kinds)))
    if meaning.label is not None or meaning.marking is not None:
        kinds = "our label"
    text = f"{meaning.name} -> {kinds or 'no handling'}"
    return text + "".join(f" ({note})" for note in meaning.notes)


def _granular_markings(
    obj: dict[str, Any],
    leaves: dict[tuple[str | int, ...], Any],
    context: ImportContext,
    org: str,
    *,
    mapped: list[str],
    problems: list[str],
    handling: list[dict[str, Any]],
    classifications: list[str],
) -> tuple[dict[tuple[str | int, ...], dict[str, Any]], bool]:
    """The markings granular markings give the leaves they select; whether `name` is marked."""
    part_markings: dict[tuple[str | int, ...], dict[str, Any]] = {}
    marked_title = False
    for granular in obj.get("granular_markings", []) or []:
        if not isinstance(granular, dict):
            problems.append("a granular marking that is not an object")
            continue
        if "marking_ref" not in granular:
            continue  # a `lang` granular marking says which language, and restricts nothing
        meaning = context.markings.meaning(granular["marking_ref"], originator=org)
        if meaning.problem or meaning.label is not None or meaning.marking is not None:
            problems.append(meaning.problem or "our label as a granular marking")
            continue
        mapped.append(f"granular {describe(meaning)}")
        for selector in granular.get("selectors", []) or []:
            path = selector_path(str(selector))
            reached = [leaf for leaf in leaves if leaf[: len(path)] == path]
            if path[0] == "name":
                marked_title = True
            if not reached:
                if path[0] in obj:  # a structural property: the marking holds for the whole item
                    handling.extend(rule.model_dump(mode="json") for rule in meaning.handling)
                    if meaning.classification:
                        classifications.append(meaning.classification)
                    continue
                problems.append("a granular selector reaches no property")
                continue
            for leaf in reached:
                marking = part_markings.setdefault(leaf, {"handling": []})
                marking["handling"].extend(
                    rule.model_dump(mode="json") for rule in meaning.handling
                )
                if meaning.classification:
                    floor = context.policy.vocabulary.default_vetting(meaning.classification)
                    marking["min_vetting"] = _max_vetting(
                        context, marking.get("min_vetting"), floor
                    )
    return part_markings, marked_title


def object_item(obj: dict[str, Any], context: ImportContext) -> Imported:
    """One item from any object: object markings to handling, granular ones to portions."""
    originator, owner = context.party(obj)
    org = originator["organisation"]
    mapped: list[str] = []
    problems: list[str] = []
    handling: list[dict[str, Any]] = []
    classifications: list[str] = []
    for ref in obj.get("object_marking_refs", []) or []:
        meaning = context.markings.meaning(ref, originator=org)
        if meaning.problem or meaning.label is not None or meaning.marking is not None:
            problems.append(meaning.problem or "our label outside one of our reports")
            continue
        mapped.append(describe(meaning))
        handling.extend(rule.model_dump(mode="json") for rule in meaning.handling)
        if meaning.classification:
            classifications.append(meaning.classification)
    leaves = object_parts(obj)
    part_markings, marked_title = _granular_markings(
        obj,
        leaves,
        context,
        org,
        mapped=mapped,
        problems=problems,
        handling=handling,
        classifications=classifications,
    )
    paths: dict[str, tuple[str | int, ...]] = {}
    portions: list[dict[str, Any]] = []
    for leaf, value in leaves.items():
        portion_id = _portion_id(leaf)
        if portion_id in paths:
            portion_id = f"{portion_id}-{len(paths)}"
        paths[portion_id] = leaf
        portion: dict[str, Any] = {"id": portion_id, "category": "narrative", "text": _text(value)}
        if leaf in part_markings:
            portion["marking"] = part_markings[leaf]
        portions.append(portion)
    name = obj.get("name")
    title = name if isinstance(name, str) and name.strip() and not marked_title else None
    if not portions:
        portions.append({"id": "type", "category": "narrative", "text": str(obj.get("type"))})
    return finish_item(
        context,
        source=str(obj.get("id")),
        data={
            "id": _portion_id((str(obj.get("id")),)),
            "title": title or f"{obj.get('type')} {obj.get('id')}",
            "created": obj.get("created") or context.now.isoformat(),
            "classification": _highest(
                context.policy, classifications, context.tables.import_.classification
            ),
            "originator": originator,
            "owner": owner,
            "handling": handling,
            "portions": portions,
        },
        mapped=mapped,
        problems=problems,
        paths=paths,
    )


def _max_vetting(context: ImportContext, current: str | None, new: str) -> str:
    if current is None:
        return new
    rank = context.policy.vocabulary.vetting_rank
    return max(current, new, key=rank)


def finish_item(
    context: ImportContext,
    *,
    source: str,
    data: dict[str, Any],
    mapped: list[str],
    problems: list[str],
    paths: dict[str, tuple[str | int, ...]],
) -> Imported:
    """Validate the item; with any problem, or an item that does not validate, nobody sees it."""
    if problems:
        data = {**data, "handling": [*data["handling"], _nobody()]}
    try:
        item = parse_item(data, source=source, policy=context.policy)
    except DocumentError as exc:
        problems = [*problems, f"the item does not validate (`{exc.field}`)"]
        # Keep only what names the item; its content and label are withheld from everyone.
        withheld = {
            "id": data["id"],
            "title": "withheld",
            "created": data["created"],
            "classification": list(context.policy.vocabulary.classifications)[-1],
            "originator": data["originator"],
            "owner": data["owner"],
            "handling": [_nobody()],
            "portions": [{"id": "p1", "category": "narrative", "text": "withheld"}],
        }
        item = parse_item(withheld, source=source, policy=context.policy)
    return Imported(source, item, tuple(mapped), tuple(problems), paths)


def _nobody() -> dict[str, Any]:
    return {"kind": "recipients_only", "principals": [NOBODY]}
