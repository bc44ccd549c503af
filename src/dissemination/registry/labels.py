"""What the registry keeps of an item: its label, without content or identifiers.

A lookup must decide each reader's view of every item linked to a subject, and
`decide` needs an `Item`. The registry keeps the item *label*: everything the
decision reads (classification, required vetting, originator, owner, handling,
grading, consents, the category and marking of every portion, the type and
marking of every subject) and nothing it does not. Portion texts and the title
become `-`; subject values and names become `blank0001`, `blank0002`, ...;
dates of birth and passport countries are dropped; portion and subject ids
become positions (an id could be written from the content). The view, the
conditions and obligations `decide` gives for the label equal those it gives
for the item, and so do the shown subjects and the reasons, except what
`dissemination.masking` adds from the content (a shown subject hidden because
its text names a withheld one): a property test holds the registry to that.
A lookup is asked by someone who already names the subject, so such masking,
which protects the *other* subject's text, has nothing to protect there.

The registry therefore stores neither content nor identifiers in clear, and
needs no decryption key to answer a lookup.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import ValidationError

from dissemination.models import Item, PassportSubject, PersonSubject, Portion, ValueSubject
from dissemination.policy import Policy

__all__ = ["BLANK", "item_label", "label_json", "parse_label"]

BLANK: Final = "-"
"""What replaces every piece of content and every identifier."""

_NO_COUNTRY: Final = "XXX"


def _placeholder(index: int) -> str:
    # One per position, none a part of another: blanked subjects never
    # "mention" each other (`dissemination.masking` hides a shown subject
    # whose text names a withheld one).
    return f"blank{index + 1:04d}"


def _blank_subject(
    index: int, subject: ValueSubject | PersonSubject | PassportSubject
) -> ValueSubject | PersonSubject | PassportSubject:
    blank = _placeholder(index)
    if isinstance(subject, PersonSubject):
        return subject.model_copy(update={"id": None, "name": blank, "date_of_birth": None})
    if isinstance(subject, PassportSubject):
        return subject.model_copy(update={"id": None, "country": _NO_COUNTRY, "value": blank})
    return subject.model_copy(update={"id": None, "value": blank})


def _blank_portion(index: int, portion: Portion) -> Portion:
    return portion.model_copy(update={"id": f"p{index + 1}", "text": BLANK})


def item_label(item: Item) -> Item:
    """The item with its content and identifiers blanked: what the registry stores.

    Args:
        item: the item.

    Returns:
        The label, an `Item` that decides as the original does.
    """
    return item.model_copy(
        update={
            "title": BLANK,
            "subjects": tuple(
                _blank_subject(index, subject) for index, subject in enumerate(item.subjects)
            ),
            "portions": tuple(
                _blank_portion(index, portion) for index, portion in enumerate(item.portions)
            ),
        }
    )


def label_json(item: Item) -> str:
    """The stored form of an item's label: compact JSON.

    Args:
        item: the item (its label is taken here).

    Returns:
        JSON text.
    """
    data = item_label(item).model_dump(mode="json", exclude_none=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_label(text: str, *, policy: Policy) -> Item | None:
    """Read a stored label back as an `Item`, validated against `policy`'s vocabulary.

    Args:
        text: the stored JSON.
        policy: the profile the lookup decides by.

    Returns:
        The label, or None when it does not validate under this profile (an
        unknown classification, say): such an item is shown to nobody.
    """
    try:
        data: Any = json.loads(text)
        return Item.model_validate(data, context={"vocabulary": policy.vocabulary})
    except (ValueError, ValidationError):
        return None
