"""Import: STIX 2.1 bundles become items, markings become handling, fail closed.

- A `report` carrying our label (an export of ours) becomes the item it was
  made from: label, portions (notes), subjects, and each part's marking.
- Any other object (not a marking or extension definition, relationship,
  sighting or the identity that created others) becomes one item: its name
  the title, each property value (down to list elements) one portion whose
  id is the property path (`indicator_types.1`).
- Object markings become the item's handling (TLP through the profile's
  table; ACS 3.0 to classification, eyes-only, releasable-to; statements to
  descriptors); granular markings become the markings of the portions their
  selectors reach.
- A marking that cannot be mapped, a reference to a marking definition that
  is neither in the bundle nor a known TLP one, or a selector that reaches
  nothing: the item is shown to nobody (`recipients_only` of the reserved id
  `NOBODY`), and the summary says so, naming the object and the problem,
  never a value.
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
from dissemination.stix.constants import PARTS_EXTENSION, SUBJECT_TYPE, TLP_LEVELS, tlp_rank
from dissemination.stix.export import stix_tables
from dissemination.stix.markings import NOBODY, MarkingReader, Meaning
from dissemination.stix.shapes import PortionShape, SubjectShape, shaped

__all__ = [
    "ImportResult",
    "Imported",
    "import_bundle",
    "object_parts",
    "our_reports",
    "parse_bundle",
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
                f"bundle `objects.{index}` ({_safe(kind)}) is not valid STIX 2.1 "
                f"({type(exc).__name__})",
                source=source,
            ) from exc
    return objects


def _safe(term: str) -> str:
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


def _selector_path(selector: str) -> tuple[str | int, ...]:
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


class _Context:
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


def _describe(meaning: Meaning) -> str:
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
    context: _Context,
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
        mapped.append(f"granular {_describe(meaning)}")
        for selector in granular.get("selectors", []) or []:
            path = _selector_path(str(selector))
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


def _generic(obj: dict[str, Any], context: _Context) -> Imported:
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
        mapped.append(_describe(meaning))
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
    return _finish(
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


def _max_vetting(context: _Context, current: str | None, new: str) -> str:
    if current is None:
        return new
    rank = context.policy.vocabulary.vetting_rank
    return max(current, new, key=rank)


def _finish(
    context: _Context,
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


def _ours(report: dict[str, Any], label: dict[str, Any], context: _Context) -> Imported:
    """The item one of our exports was made from (as far as that export showed it)."""
    mapped = ["dissemination label"]
    problems: list[str] = []
    item_level = _hint(context, label)
    extra = _other_markings(report, context, level=item_level, mapped=mapped, problems=problems)
    originator = label.get("originator") or {
        "organisation": label["owner"]["organisation"],
        "unit": label["owner"]["unit"],
    }
    portions: list[dict[str, Any]] = []
    subjects: list[dict[str, Any]] = []
    for ref in report.get("object_refs", []):
        obj = context.by_id.get(str(ref))
        if obj is None:
            continue
        part, marking = _part(obj, context, item_level, mapped, problems)
        if part is None:
            continue
        kind, data = part
        if marking is not None:
            data["marking"] = marking
        (portions if kind == "portion" else subjects).append(data)
    if not portions:
        problems.append("an export with no portions (a pointer) holds no item")
    document: dict[str, Any] = {
        "id": label["id"],
        "title": report.get("name") if label.get("view") in {"sanitised", "full"} else label["id"],
        "created": label["created"],
        "classification": label.get("classification", context.tables.import_.classification),
        "originator": originator,
        "owner": label["owner"],
        "handling": [*label.get("handling", []), *extra],
        "consents": label.get("consents", []),
        "subjects": subjects,
        "portions": portions or [{"id": "p", "category": "narrative", "text": "withheld"}],
    }
    for key in ("required_vetting", "grading", "signature"):
        if key in label:
            document[key] = label[key]
    return _finish(
        context, source=str(report["id"]), data=document, mapped=mapped, problems=problems, paths={}
    )


def _hint(context: _Context, label: dict[str, Any]) -> int:
    export = context.tables.export
    levels = [export.classification(label.get("classification", ""))]
    if "required_vetting" in label:
        levels.append(export.vetting(label["required_vetting"]))
    levels.extend(export.handling(rule.get("kind", "")) for rule in label.get("handling", []))
    if label.get("view") == "pointer":
        levels = [export.tlp_at_pointer]
    return max(tlp_rank(level) for level in levels)


def _other_markings(
    obj: dict[str, Any],
    context: _Context,
    *,
    level: int,
    mapped: list[str],
    problems: list[str],
) -> list[dict[str, Any]]:
    """The handling of an object's markings other than our label and a TLP hint we would give."""
    extra: list[dict[str, Any]] = []
    originator, _ = context.party(obj)
    for ref in obj.get("object_marking_refs", []) or []:
        meaning = context.markings.meaning(ref, originator=originator["organisation"])
        if meaning.problem:
            problems.append(meaning.problem)
        elif meaning.label is not None or meaning.marking is not None:
            continue
        elif meaning.tlp is not None and tlp_rank(meaning.tlp) <= level:
            continue  # our own hint (or less): the label already says more
        else:
            mapped.append(_describe(meaning))
            extra.extend(rule.model_dump(mode="json") for rule in meaning.handling)
    if obj.get("granular_markings"):
        problems.append("granular markings on an object of one of our exports")
    return extra


def _part_marking(
    obj: dict[str, Any],
    context: _Context,
    item_level: int,
    mapped: list[str],
    problems: list[str],
) -> dict[str, Any] | None:
    """A part's own marking (ours), plus any marking a partner added above our hint."""
    marking: dict[str, Any] | None = None
    for ref in obj.get("object_marking_refs", []) or []:
        meaning = context.markings.meaning(ref, originator="")
        if meaning.marking is not None:
            marking = dict(meaning.marking)
    level = max(item_level, _marking_hint(context, marking))
    extra = _other_markings(obj, context, level=level, mapped=mapped, problems=problems)
    if extra:
        marking = marking or {}
        marking["handling"] = [*marking.get("handling", []), *extra]
    return marking


def _part(
    obj: dict[str, Any],
    context: _Context,
    item_level: int,
    mapped: list[str],
    problems: list[str],
) -> tuple[tuple[str, dict[str, Any]] | None, dict[str, Any] | None]:
    extensions = obj.get("extensions")
    extension = extensions.get(PARTS_EXTENSION) if isinstance(extensions, dict) else None
    if not isinstance(extension, dict):
        extension = {}
    marking = _part_marking(obj, context, item_level, mapped, problems)
    detail: dict[str, Any] | None = None
    if obj.get("type") == "note" and "portion" in extension:
        detail = shaped(PortionShape, extension["portion"])
        if detail is not None:
            return ("portion", {**detail, "text": obj.get("content", "")}), marking
    elif obj.get("type") == SUBJECT_TYPE:
        detail = shaped(SubjectShape, obj.get("subject"))
        if detail is not None:
            return ("subject", detail), marking
    elif "subject" in extension:
        detail = shaped(SubjectShape, extension["subject"])
        if detail is not None:
            if obj.get("type") == "email-addr":
                detail["value"] = obj.get("value")
            elif detail.get("type") == "person":
                detail["name"] = obj.get("name")
            else:
                detail["value"] = obj.get("name")
            return ("subject", detail), marking
    else:
        return None, None  # the owner, or an object that is not a part of ours
    problems.append(f"a part of ours ({_safe(str(obj.get('type')))}) is malformed")
    return None, None


def _marking_hint(context: _Context, marking: dict[str, Any] | None) -> int:
    if not marking:
        return 0
    export = context.tables.export
    levels = [TLP_LEVELS[0]]
    if marking.get("min_vetting"):
        levels.append(export.vetting(marking["min_vetting"]))
    levels.extend(export.handling(rule.get("kind", "")) for rule in marking.get("handling", []))
    return max(tlp_rank(level) for level in levels)


def our_reports(
    objects: list[dict[str, Any]], context: _Context
) -> tuple[list[tuple[dict[str, Any], Imported]], set[str]]:
    """The reports of ours in a bundle, each with its item; and the ids of the objects they hold.

    A report of ours carries our label; the objects it refers to and its
    creator are its parts (notes, subjects, parties), not items of their own.
    """
    found: list[tuple[dict[str, Any], Imported]] = []
    consumed: set[str] = set()
    for obj in objects:
        if obj.get("type") != "report":
            continue
        for ref in obj.get("object_marking_refs", []) or []:
            meaning = context.markings.meaning(ref, originator="")
            if meaning.label is not None:
                found.append((obj, _ours(obj, meaning.label, context)))
                consumed.add(str(obj["id"]))
                consumed.update(str(r) for r in obj.get("object_refs", []))
                consumed.add(str(obj.get("created_by_ref")))
                break
    return found, consumed


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
    context = _Context(objects, policy=policy, receiver=receiver, recipients=recipients, now=now)
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
        items.append(_generic(obj, context))
    definitions = []
    for obj in objects:
        if obj.get("type") == "marking-definition":
            meaning = context.markings.meaning(obj.get("id"), originator="$originator")
            state = f"not mapped: {meaning.problem}" if meaning.problem else _describe(meaning)
            definitions.append(f"{obj.get('id')}: {state}")
    return ImportResult(tuple(items), tuple(skipped), tuple(definitions))
