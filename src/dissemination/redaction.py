"""Rendering a decision: the redacted view as a JSON document and as plain text.

Pure functions of (item, decision). What a view contains (DESIGN §2):

- `full`: the item, with only the portions and subjects the decision shows;
- `sanitised`: the same shape; the decision already left out source and
  method portions and the categories the originator asked to sanitise;
- `gist`: id, created, classification, owner, handling, grading, the shown
  subjects and the tearline portions; no title, no originator;
- `pointer`: id, created, owner and the referral; nothing of the content,
  not even the title;
- `none`: nothing; the document is the same for every item at `none`.

Every shown text (title, portions, conditions) is rendered through the
decision's masks (`dissemination.masking`): mentions of withheld subjects and
inline spans above the reader's vetting are masked, in JSON and text alike.

The rendered document never carries the decision's `facts` or `withheld`
(those are for `explain`), and at `none` it carries no reasons, so an item at
`none` is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from dissemination.decision import Decision
from dissemination.masking import CONDITIONS, PORTION, TITLE, MaskIndex, index_masks, masked_text
from dissemination.models import Item, Portion, Subject
from dissemination.vocabulary import View

__all__ = ["banner", "render", "render_item", "render_text", "shown_conditions"]


def _dump(model: Any) -> Any:
    # `model_dump` itself, without its keyword-handling wrapper: a render dumps
    # each shown part, and the wrapper was a fifth of the time of a render.
    return model.__pydantic_serializer__.to_python(model, mode="json", exclude_none=True)


_PORTIONS = TypeAdapter(list[Portion])
_SUBJECTS = TypeAdapter(list[Subject])
"""Lists of portions and subjects dumped in one call (an item may hold thousands)."""


def _portions(portions: list[Portion], masks: MaskIndex) -> list[dict[str, Any]]:
    dumped: list[dict[str, Any]] = _PORTIONS.dump_python(portions, mode="json", exclude_none=True)
    for portion, data in zip(portions, dumped, strict=True):
        data["text"] = masked_text(masks, PORTION, portion.id, portion.text)
    return dumped


def _check_item(item: Item, decision: Decision) -> None:
    """Refuse a decision made for another item: its masks' offsets are for other texts."""
    if decision.item_id != item.id:
        raise ValueError("the decision is for another item")


def _condition(text: str, decision: Decision) -> str:
    return masked_text(decision.masks, CONDITIONS, "", text)


def shown_conditions(decision: Decision) -> list[str]:
    """The conditions a view shows: the grading conditions, masked, then the caveats.

    The one place the `conditions` of a rendered view (and of a registry
    lookup's linked item) is made.

    Args:
        decision: the decision for one reader.

    Returns:
        The texts, masked for that reader.
    """
    return [
        *(_condition(condition, decision) for condition in decision.conditions),
        *decision.caveats,
    ]


def render_item(item: Item, decision: Decision) -> dict[str, Any] | None:
    """The item as the reader may see it, same shape as the input, or None at `none`.

    Args:
        item: the item that was decided on.
        decision: the decision for one reader.

    Returns:
        The redacted item as JSON-ready data, or None when the view is `none`.

    Raises:
        ValueError: the decision is for another item.
    """
    _check_item(item, decision)
    view = decision.view
    if view is View.NONE:
        return None
    created = item.created.isoformat().replace("+00:00", "Z")
    owner = _dump(item.owner)
    if view is View.POINTER:
        return {"id": item.id, "created": created, "owner": owner, "referral": decision.referral}

    shown_portions = set(decision.portions)
    masks = index_masks(decision.masks)
    portions = _portions(
        [portion for portion in item.portions if portion.id in shown_portions], masks
    )
    subjects = _SUBJECTS.dump_python(
        [item.subjects[index] for index in decision.subjects], mode="json", exclude_none=True
    )
    rendered: dict[str, Any] = {"id": item.id}
    if view >= View.SANITISED:
        rendered["title"] = masked_text(masks, TITLE, "", item.title)
    rendered["created"] = created
    rendered["classification"] = item.classification
    if view >= View.SANITISED:
        rendered["required_vetting"] = item.required_vetting
        rendered["originator"] = _dump(item.originator)
    rendered["owner"] = owner
    if item.handling:
        rendered["handling"] = [_dump(rule) for rule in item.handling]
    if item.grading is not None:
        grading = _dump(item.grading)
        if "conditions" in grading:
            grading["conditions"] = _condition(grading["conditions"], decision)
        rendered["grading"] = grading
    if view >= View.SANITISED and item.consents:
        rendered["consents"] = list(item.consents)
    rendered["subjects"] = subjects
    rendered["portions"] = portions
    return rendered


def render(item: Item, decision: Decision) -> dict[str, Any]:
    """The whole rendered view: the document `dissemination view` prints.

    Keys: `view`, `item` (absent at `none`), `reasons`, `conditions`,
    `obligations`, `policy`. At `none` the document is identical for every
    item (empty reasons), so it reveals nothing, not even existence.

    Args:
        item: the item that was decided on.
        decision: the decision for one reader.

    Returns:
        JSON-ready data.
    """
    if decision.view is View.NONE:
        return {
            "view": "none",
            "reasons": [],
            "conditions": [],
            "obligations": [],
            "policy": decision.policy,
        }
    document: dict[str, Any] = {"view": decision.view.label}
    document["item"] = render_item(item, decision)
    document["reasons"] = [{"rule": r.rule, "text": r.text} for r in decision.reasons]
    document["conditions"] = shown_conditions(decision)
    document["obligations"] = list(decision.obligations)
    document["policy"] = decision.policy
    return document


def banner(item: Item, decision: Decision) -> str:
    """The marking banner: classification, then caveats (`OFFICIAL-SENSITIVE | NOT FOR EVIDENCE`).

    Empty below `gist`: a pointer carries no marking of the content.
    """
    if decision.view < View.GIST:
        return ""
    return " | ".join((item.classification, *decision.caveats))


def render_text(item: Item, decision: Decision) -> str:
    """The plain-text view a frontline officer reads.

    Banner, reference, tearline and other shown portions, subjects, conditions,
    owner contact and the reasons. A pointer gives the reference and whom to
    ask; `none` gives an empty string.

    Args:
        item: the item that was decided on.
        decision: the decision for one reader.

    Returns:
        The text, ending with a newline (empty at `none`).

    Raises:
        ValueError: the decision is for another item.
    """
    _check_item(item, decision)
    view = decision.view
    if view is View.NONE:
        return ""
    owner = item.owner
    contact = f"{owner.organisation}, {owner.unit} <{owner.contact}>"
    created = item.created.isoformat().replace("+00:00", "Z")
    if view is View.POINTER:
        lines = [
            f"{item.id} (created {created})",
            f"{(decision.referral or 'refer to owner').capitalize()}: {contact}",
        ]
        lines.extend(f"Why: {reason.text}" for reason in decision.reasons)
        return "\n".join(lines) + "\n"

    masks = index_masks(decision.masks)
    mark = banner(item, decision)
    lines = [mark, f"{item.id} (created {created}) - {view.label} view"]
    if view >= View.SANITISED:
        lines.append(masked_text(masks, TITLE, "", item.title))
    if item.grading is not None:
        grading = item.grading
        lines.append(f"Grading: {grading.source}{grading.intelligence}{grading.handling_code}")
    for condition in decision.conditions:
        lines.append(f"Conditions: {_condition(condition, decision)}")
    shown = set(decision.portions)
    for portion in item.portions:
        if portion.id in shown:
            lines.append("")
            text = masked_text(masks, PORTION, portion.id, portion.text)
            lines.append(f"[{portion.category.upper()}] {text}")
    if decision.subjects:
        lines.append("")
        lines.append("Subjects:")
        for index in decision.subjects:
            lines.append(f"  - {_subject_text(item, index)}")
    lines.append("")
    lines.append(f"Owner: {contact}")
    lines.extend(f"Why: {reason.text}" for reason in decision.reasons)
    lines.append(mark)
    return "\n".join(lines) + "\n"


def _subject_text(item: Item, index: int) -> str:
    subject = item.subjects[index]
    if subject.type == "person":
        born = f", born {subject.date_of_birth.isoformat()}" if subject.date_of_birth else ""
        return f"person: {subject.name}{born}"
    if subject.type == "passport":
        return f"passport: {subject.country} {subject.value}"
    return f"{subject.type}: {subject.value}"
