"""Reports of ours: the item one of our exports was made from, read back.

A report carrying our label (an export of `dissemination`) is not an object
like others: its label, notes (portions), subjects and their own markings
rebuild the item, as far as the export's reader saw it. A TLP marking no more
restrictive than the hint our export tables give is our hint and adds
nothing; a more restrictive one (a partner raised it), or any other marking,
is mapped and added. Contents of our extensions of the wrong shape are a
problem (the item is shown to nobody), never an exception.
"""

from __future__ import annotations

from typing import Any

from dissemination.stix.constants import PARTS_EXTENSION, SUBJECT_TYPE, TLP_LEVELS, tlp_rank
from dissemination.stix.objects import ImportContext, Imported, describe, finish_item, safe_type
from dissemination.stix.shapes import PortionShape, SubjectShape, shaped

__all__ = ["our_reports"]


def _ours(report: dict[str, Any], label: dict[str, Any], context: ImportContext) -> Imported:
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
    return finish_item(
        context, source=str(report["id"]), data=document, mapped=mapped, problems=problems, paths={}
    )


def _hint(context: ImportContext, label: dict[str, Any]) -> int:
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
    context: ImportContext,
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
            mapped.append(describe(meaning))
            extra.extend(rule.model_dump(mode="json") for rule in meaning.handling)
    if obj.get("granular_markings"):
        problems.append("granular markings on an object of one of our exports")
    return extra


def _part_marking(
    obj: dict[str, Any],
    context: ImportContext,
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
    context: ImportContext,
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
    problems.append(f"a part of ours ({safe_type(str(obj.get('type')))}) is malformed")
    return None, None


def _marking_hint(context: ImportContext, marking: dict[str, Any] | None) -> int:
    if not marking:
        return 0
    export = context.tables.export
    levels = [TLP_LEVELS[0]]
    if marking.get("min_vetting"):
        levels.append(export.vetting(marking["min_vetting"]))
    levels.extend(export.handling(rule.get("kind", "")) for rule in marking.get("handling", []))
    return max(tlp_rank(level) for level in levels)


def our_reports(
    objects: list[dict[str, Any]], context: ImportContext
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
