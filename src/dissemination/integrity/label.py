"""An item's label: what a signature binds, and its canonical bytes.

The label is every field a decision reads, plus a SHA-256 digest of every
piece of content, so that a signature over it binds the originator's handling
instructions to the content they were given for (as STANAG 4778 binds a
confidentiality label to data):

- the item's id, creation time, classification, effective required vetting,
  originator, owner, handling instructions, grading and consents;
- for each portion, in order: its id, category, marking and the digest of its
  text;
- for each subject, in order: its id (or position), type, marking and the
  digest of its identifying fields;
- the digest of the title;
- the signer: algorithm, organisation and key id.

Item, portion and subject ids are in the label, so a signature cannot be moved
from one item to another, nor content between portions. Times are written as
UTC instants, so an item re-serialised with another offset keeps its label.
The bytes signed are the label as canonical JSON (RFC 8785, the `rfc8785`
package): the same label always gives the same bytes, in any language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import rfc8785

from dissemination.models import Embargo, Handling, Item, Marking

__all__ = ["LABEL_FORMAT", "canonical_label", "content_digest", "label"]

LABEL_FORMAT = "dissemination/label/1"
"""The version of the label layout; a verifier refuses any other."""


def content_digest(text: str) -> str:
    """The SHA-256 of UTF-8 text, in hex.

    Args:
        text: a portion's text, the title, or a subject's canonical JSON.

    Returns:
        64 hex digits.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _handling(rule: Handling) -> dict[str, Any]:
    data: dict[str, Any] = rule.model_dump(mode="json")
    if isinstance(rule, Embargo):
        data["until"] = _instant(rule.until)
    return data


def _marking(marking: Marking | None) -> dict[str, Any] | None:
    if marking is None:
        return None
    return {
        "min_vetting": marking.min_vetting,
        "handling": [_handling(rule) for rule in marking.handling],
    }


def label(item: Item, *, organisation: str, key_id: str, algorithm: str = "Ed25519") -> Any:
    """The label of an item, as the signer `organisation`/`key_id` signs it.

    Args:
        item: the item.
        organisation: the signing organisation.
        key_id: the signing key's id.
        algorithm: the signature algorithm.

    Returns:
        JSON-ready data (see the module docstring for what it holds).
    """
    subjects = []
    for index, subject in enumerate(item.subjects):
        identity = subject.model_dump(mode="json", exclude={"id", "marking"})
        subjects.append(
            {
                "id": item.subject_key(index),
                "type": subject.type,
                "marking": _marking(subject.marking),
                "sha256": content_digest(rfc8785.dumps(identity).decode("utf-8")),
            }
        )
    return {
        "format": LABEL_FORMAT,
        "signer": {"algorithm": algorithm, "organisation": organisation, "key_id": key_id},
        "id": item.id,
        "version": item.version,
        "created": _instant(item.created),
        "title_sha256": content_digest(item.title),
        "classification": item.classification,
        "required_vetting": item.vetting_required,
        "originator": item.originator.model_dump(mode="json"),
        "owner": item.owner.model_dump(mode="json"),
        "handling": [_handling(rule) for rule in item.handling],
        "grading": item.grading.model_dump(mode="json") if item.grading is not None else None,
        "consents": list(item.consents),
        "portions": [
            {
                "id": portion.id,
                "category": portion.category,
                "marking": _marking(portion.marking),
                "sha256": content_digest(portion.text),
            }
            for portion in item.portions
        ],
        "subjects": subjects,
    }


def canonical_label(
    item: Item, *, organisation: str, key_id: str, algorithm: str = "Ed25519"
) -> bytes:
    """The bytes a label signature covers: the label as RFC 8785 canonical JSON.

    Args:
        item: the item.
        organisation: the signing organisation.
        key_id: the signing key's id.
        algorithm: the signature algorithm.

    Returns:
        The canonical UTF-8 JSON bytes.
    """
    return rfc8785.dumps(label(item, organisation=organisation, key_id=key_id, algorithm=algorithm))
