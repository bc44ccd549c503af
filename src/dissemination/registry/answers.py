"""What the registry answers: registrations, lookups, history. Pure values.

A lookup answer goes through the policy (DESIGN §5, "no leaks"). For each item
linked to the subject, `decide` gives the reader's view of the item's stored
label, and the item *contributes* to the answer only when

- the view is `pointer` or better, and
- the reader may know that the item concerns this subject: every entry of the
  subject in the item carries no marking of its own, or the decision shows it
  (one entry with a marking the reader fails withholds the others too). (At
  `pointer` no subject is shown, so a subject with its own marking contributes
  nothing at `pointer`: the marking's conditions cannot be established, and the
  registry fails closed.)

A contributing item gives its pointer (id, created, owner, referral, when it
was linked) and, from `gist` up, its banner (classification, conditions,
caveats). The subject's owner (the claim: who owns it, since when, until when)
is told only when the item the claim rests on contributes. Everything else is
left out without trace, so a subject whose items are all at `none` for this
reader gets the very answer an identifier never registered gets, byte for
byte. The answer carries no count, digest or time of its own.

When the lookup is recorded in the disclosure trail (`answer(record=...)`),
each contributing item is recorded before the answer is returned, and only
those: an item that contributes nothing disclosed nothing. The record is made
from the stored label and `disclosed(decision)`: the item id, the reader's
view, the rule ids and the policy digest, with no portion and no subject,
since a lookup shows no portion, and the registry knows a subject only by its
position in the item (never by the id a `view` record would name it by).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dissemination.decision import Decision, LabelCheck, decide
from dissemination.identifiers import NormalisedIdentifier
from dissemination.models import Item, Owner, Principal
from dissemination.policy import Policy
from dissemination.redaction import shown_conditions
from dissemination.vocabulary import View

__all__ = [
    "Claim",
    "Event",
    "History",
    "LinkedItem",
    "LookupAnswer",
    "Registration",
    "Shown",
    "StoredLink",
    "answer",
    "assemble",
    "contributes",
    "disclosed",
    "judge",
]


def _time(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _owner(owner: Owner | None) -> dict[str, str] | None:
    return None if owner is None else owner.model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class Claim:
    """Who owns a subject: the one owner, since when, until when, on which item.

    Attributes:
        owner: the owning organisation, unit and contact.
        since: when this owner took the subject (a claim or a transfer).
        expires: when the claim lapses unless renewed (None: never).
        item_id: the item the claim rests on.
    """

    owner: Owner
    since: dt.datetime
    expires: dt.datetime | None
    item_id: str

    def live(self, now: dt.datetime) -> bool:
        """Whether the claim holds at `now` (it has not lapsed).

        Args:
            now: the time, with a zone.

        Returns:
            True until `expires`.
        """
        return self.expires is None or now < self.expires

    def to_json(self) -> dict[str, Any]:
        """The claim as JSON-ready data.

        Returns:
            `owner`, `since`, `expires`, `item`.
        """
        return {
            "owner": _owner(self.owner),
            "since": _time(self.since),
            "expires": _time(self.expires),
            "item": self.item_id,
        }


@dataclass(frozen=True, slots=True)
class Registration:
    """The outcome of registering one subject of an item.

    For the ingest pipeline and the owner, not for readers: it names the
    existing owner and linked items without asking the policy.

    Attributes:
        subject: the subject's key in the item (`id`, or `s<n>`).
        type: the subject type.
        outcome: `new` (the item's owner now owns the subject) or
            `already_owned` (someone, maybe this owner, already did).
        claim: the claim now in force.
        items: the ids of every item linked to the subject, sorted.
    """

    subject: str
    type: str
    outcome: str
    claim: Claim
    items: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The registration as JSON-ready data.

        Returns:
            `subject`, `type`, `outcome`, the claim's fields and `items`.
        """
        return {
            "subject": self.subject,
            "type": self.type,
            "outcome": self.outcome,
            **self.claim.to_json(),
            "items": list(self.items),
        }


@dataclass(frozen=True, slots=True)
class LinkedItem:
    """What a reader learns of one item linked to the subject.

    Attributes:
        item_id: the item.
        view: the reader's view of it (`pointer` or better).
        created: when the item was created.
        owner: the item's owner (whom to ask).
        referral: at `pointer`, `refer to owner` or `refer to originator`.
        linked: when the item was linked to the subject.
        classification: from `gist` up, the item's classification.
        conditions: from `gist` up, the grading conditions masked for the reader
            exactly as `view` masks them (`redaction.shown_conditions`), then the caveats.
    """

    item_id: str
    view: View
    created: dt.datetime
    owner: Owner
    referral: str | None
    linked: dt.datetime
    classification: str | None = None
    conditions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The linked item as JSON-ready data (banner fields only from `gist` up).

        Returns:
            JSON-ready data.
        """
        data: dict[str, Any] = {
            "item": self.item_id,
            "view": self.view.label,
            "created": _time(self.created),
            "owner": _owner(self.owner),
            "linked": _time(self.linked),
        }
        if self.referral is not None:
            data["referral"] = self.referral
        if self.view >= View.GIST:
            data["classification"] = self.classification
            data["conditions"] = list(self.conditions)
        return data


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """What a reader learns from a deconfliction lookup.

    Attributes:
        identifier: the identifier asked about, normalised.
        claim: the subject's owner, when the reader may know it.
        items: the linked items the reader may know of, sorted by id (one page).
        next: when the page is full and more linked items may follow, the
            item id to ask `after` for the next page (None otherwise).
    """

    identifier: NormalisedIdentifier
    claim: Claim | None
    items: tuple[LinkedItem, ...]
    next: str | None = None

    @property
    def found(self) -> bool:
        """Whether the reader learns anything beyond "nothing you may know of"."""
        return self.claim is not None or bool(self.items)

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON-ready data; identical for every subject the reader may not know of.

        Returns:
            `type`, `identifier`, `owner`, `since`, `expires`, `items`, and
            `next` when another page follows.
        """
        claim = self.claim
        data: dict[str, Any] = {
            "type": self.identifier.type,
            "identifier": self.identifier.canonical,
            "owner": _owner(claim.owner) if claim else None,
            "since": _time(claim.since) if claim else None,
            "expires": _time(claim.expires) if claim else None,
            "items": [item.to_json() for item in self.items],
        }
        if self.next is not None:
            data["next"] = self.next
        return data


@dataclass(frozen=True, slots=True)
class Event:
    """One change of ownership or linkage: who, when, what and why.

    Attributes:
        at: when.
        action: `claim`, `link`, `unlink`, `transfer`, `renew`, `release` or `lapse`.
        actor: who made the change.
        reason: why, in their words (None when not given).
        item_id: the item concerned, if any.
        owner: the owner after the change, for `claim` and `transfer`.
        expires: the claim's expiry after a `claim`, `renew` or `transfer`.
    """

    at: dt.datetime
    action: str
    actor: str
    reason: str | None
    item_id: str | None
    owner: Owner | None
    expires: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as JSON-ready data.

        Returns:
            JSON-ready data.
        """
        return {
            "at": _time(self.at),
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
            "item": self.item_id,
            "owner": _owner(self.owner),
            "expires": _time(self.expires),
        }


@dataclass(frozen=True, slots=True)
class History:
    """A subject's ownership history, for its owner or an auditor (not policy-filtered).

    Attributes:
        identifier: the subject, normalised.
        claim: the claim in force, if any (lapsed claims are shown with their expiry).
        items: every linked item id, sorted.
        events: every change, oldest first.
    """

    identifier: NormalisedIdentifier
    claim: Claim | None
    items: tuple[str, ...]
    events: tuple[Event, ...]

    def to_json(self) -> dict[str, Any]:
        """The history as JSON-ready data.

        Returns:
            JSON-ready data.
        """
        return {
            "type": self.identifier.type,
            "identifier": self.identifier.canonical,
            "claim": self.claim.to_json() if self.claim else None,
            "items": list(self.items),
            "events": [event.to_json() for event in self.events],
        }


@dataclass(frozen=True, slots=True)
class StoredLink:
    """One stored link as the lookup reads it: the item's label and where the subject is.

    Attributes:
        item_id: the item.
        label: the item's stored label, or None when it does not validate.
        positions: the positions, in the item, of the entries for this subject.
        linked: when the link was made.
        label_verified: whether the item's label signature verified at registration.
    """

    item_id: str
    label: Item | None
    positions: tuple[int, ...]
    linked: dt.datetime
    label_verified: bool


def _verified(verified: bool) -> LabelCheck:
    """The label check for a stored label: its signature was checked once, at ingest.

    The registry cannot check a content-bound signature against a label
    without content, so it keeps the result of the check made on the whole
    item when it was registered.
    """

    def check(_label: Item) -> bool:
        return verified

    return check


def contributes(decision: Decision, label: Item, positions: Iterable[int]) -> bool:
    """Whether an item tells the reader anything in a lookup (see the module docstring).

    Args:
        decision: the reader's decision on the item's label.
        label: the item's label.
        positions: where the subject appears in the item.

    Returns:
        True when the view is at least `pointer` and the reader may know that
        the item concerns the subject.
    """
    if decision.view < View.POINTER:
        return False
    shown = set(decision.subjects)
    positions = tuple(positions)
    # Every entry naming the subject must be one the reader may know of: the
    # same identifier entered twice, once with a marking the reader fails, is
    # withheld whole by `decide` (`mask.subject`), so it is here too.
    return bool(positions) and all(
        position < len(label.subjects)
        and (label.subjects[position].marking is None or position in shown)
        for position in positions
    )


def disclosed(decision: Decision) -> Decision:
    """What a lookup disclosed of an item, as the disclosure trail records it.

    A lookup shows an item's pointer (and, from `gist` up, its banner), never
    a portion or a subject: the decision keeps its view, reasons and policy,
    and shows no portion and no subject.

    Args:
        decision: the reader's decision on the item's stored label.

    Returns:
        The decision with no portion and no subject shown.
    """
    return dataclasses.replace(decision, portions=(), subjects=(), masks=())


def _linked_item(link: StoredLink, label: Item, decision: Decision) -> LinkedItem:
    gist = decision.view >= View.GIST
    return LinkedItem(
        item_id=label.id,
        view=decision.view,
        created=label.created,
        owner=label.owner,
        referral=decision.referral,
        linked=link.linked,
        classification=label.classification if gist else None,
        conditions=tuple(shown_conditions(decision)) if gist else (),
    )


Shown = tuple[LinkedItem, Item, Decision]
"""What one contributing item gives a lookup: the linked item, its label, the decision."""


def judge(link: StoredLink, reader: Principal, *, now: dt.datetime, policy: Policy) -> Shown | None:
    """Decide one stored link for the reader: what it shows, or None when it contributes nothing.

    Every link a lookup reads (and every decoy, see `lookup`) goes through this one path.

    Args:
        link: the stored link.
        reader: who asks.
        now: the time of the lookup, with a zone.
        policy: the profile to decide by.

    Returns:
        The linked item, the label and the decision, or None.
    """
    label = link.label
    if label is None:
        return None
    decision = decide(
        reader, label, now=now, policy=policy, label_check=_verified(link.label_verified)
    )
    if not contributes(decision, label, link.positions):
        return None
    return _linked_item(link, label, decision), label, decision


def assemble(
    identifier: NormalisedIdentifier,
    claim: Claim | None,
    shown: Iterable[Shown],
    *,
    now: dt.datetime,
    claim_shown: bool,
    record: Callable[[Item, Decision], object] | None = None,
    after: str | None = None,
) -> LookupAnswer:
    """The answer from the judged links: record what it shows, then return it.

    Args:
        identifier: the subject asked about.
        claim: the subject's claim, if any (lapsed or not).
        shown: the contributing links of this page.
        now: the time of the lookup, with a zone.
        claim_shown: whether the item the claim rests on contributes.
        record: called, before the answer is returned, with the stored label
            and `disclosed(decision)` of each item the answer shows, in item
            id order; never for an item that contributes nothing. If it
            raises, no answer.
        after: where the next page starts (the last item id shown), when
            the page is full and more links follow.

    Returns:
        The answer.
    """
    ordered = sorted(shown, key=lambda entry: entry[0].item_id)
    if record is not None:
        for _, label, decision in ordered:
            record(label, disclosed(decision))
    shown_claim = claim if claim is not None and claim_shown and claim.live(now) else None
    return LookupAnswer(identifier, shown_claim, tuple(linked for linked, _, _ in ordered), after)


def answer(
    identifier: NormalisedIdentifier,
    claim: Claim | None,
    links: Iterable[StoredLink],
    reader: Principal,
    *,
    now: dt.datetime,
    policy: Policy,
    record: Callable[[Item, Decision], object] | None = None,
) -> LookupAnswer:
    """Build the whole (unpaged) lookup answer for one reader: each linked item through `judge`.

    Args:
        identifier: the subject asked about.
        claim: the subject's claim, if any (lapsed or not).
        links: the subject's stored links.
        reader: who asks.
        now: the time of the lookup, with a zone.
        policy: the profile to decide by.
        record: see `assemble`.

    Returns:
        The answer; the same for an unknown subject and for one whose items are
        all at `none` for this reader.
    """
    shown = [
        judged
        for link in links
        if (judged := judge(link, reader, now=now, policy=policy)) is not None
    ]
    claim_shown = claim is not None and any(
        linked.item_id == claim.item_id for linked, _, _ in shown
    )
    return assemble(identifier, claim, shown, now=now, claim_shown=claim_shown, record=record)
