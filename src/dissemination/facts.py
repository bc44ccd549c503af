"""Facts: what is true of a reader and an item's label, as named tokens.

Python derives facts; the casbin policy maps facts to views (DESIGN §3). Each
fact is one small pure function of values: no I/O, no clock (`now` is passed).
A fact is a string such as `employment.agency` or
`handling.releasable_to.unlisted`; the policy rows name the facts they need.

The fact names are finite and listed here (`fact_names`), so a policy that names
a fact nobody derives is rejected on load, and the whole fact space can be
enumerated by the policy tools.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dissemination.models import (
    Embargo,
    EyesOnly,
    Handling,
    Item,
    Marking,
    NeedToKnow,
    Principal,
    RecipientsOnly,
    ReleasableTo,
)
from dissemination.vocabulary import NO_VETTING, Vocabulary

__all__ = [
    "ALWAYS",
    "HANDLING_FACTS",
    "LABEL_INTEGRITY_FAILED",
    "READER_FACT_NAMES",
    "READER_INVALID",
    "fact_names",
    "handling_facts",
    "label_facts",
    "marking_vetting_ok",
    "portion_facts",
    "reader_facts",
    "reader_rank",
    "required_rank",
    "subject_facts",
]

ALWAYS = "always"
"""A fact that holds for every request (the base `pointer` row needs it)."""

LABEL_INTEGRITY_FAILED = "label.integrity_failed"
"""The item's label signature is missing or does not verify (when required)."""

LABEL_INVALID = "label.invalid"
LABEL_UNKNOWN_HANDLING = "label.unknown_handling"

READER_INVALID = "reader.invalid"
"""The reader's record does not fit the deciding profile (an employment type it lacks).

Readers are validated on load against a vocabulary; this catches a reader
validated against another profile and fails them closed, as `label.invalid`
does for items. An unknown or expired vetting level is not this fact: it
counts as no vetting (`reader_rank`).
"""

READER_FACT_NAMES = (
    ALWAYS,
    "vetting.meets_required",
    "vetting.baseline",
    "tearline.passed",
    "reader.outside_originator",
    "reader.consented",
    READER_INVALID,
)

HANDLING_FACT_NAMES = (
    "handling.releasable_to.unlisted",
    "handling.no_agency_staff",
    "handling.need_to_know.not_member",
    "handling.originator_consent",
    "handling.embargo.active",
    "handling.sanitise",
    "handling.recipients_only.unlisted",
    "handling.eyes_only.unlisted",
    "handling.not_for_evidence",
    "handling.descriptor",
)

LABEL_FACT_NAMES = (LABEL_INVALID, LABEL_UNKNOWN_HANDLING, LABEL_INTEGRITY_FAILED)


def fact_names(vocabulary: Vocabulary) -> frozenset[str]:
    """Every fact the library can derive under a vocabulary.

    Args:
        vocabulary: the profile's vocabulary (for `vetting.at_least.<level>`,
            `employment.<type>` and `category.<category>`).

    Returns:
        The fact names a policy row may use.
    """
    names = set(READER_FACT_NAMES) | set(HANDLING_FACT_NAMES) | set(LABEL_FACT_NAMES)
    names.update(f"vetting.at_least.{level}" for level in vocabulary.vetting_levels)
    names.update(f"employment.{kind}" for kind in vocabulary.employment)
    names.update(f"category.{category}" for category in vocabulary.portion_categories)
    names.update({"category.sanitise_requested", "subject"})
    return frozenset(names)


# -- the reader's vetting --------------------------------------------------------


def reader_rank(principal: Principal, vocabulary: Vocabulary, today: dt.date) -> int:
    """The rank of the reader's vetting on the profile's scale, or `NO_VETTING`.

    Missing, expired (on or after `expires`... a clearance that expires on a day
    is no longer held that day) or unknown vetting counts as none: fail closed.

    Args:
        principal: the reader.
        vocabulary: the profile's vocabulary.
        today: the date of the decision.

    Returns:
        The rank (0 for the lowest level), or `NO_VETTING`.
    """
    vetting = principal.vetting
    if vetting is None:
        return NO_VETTING
    if vetting.expires is not None and today >= vetting.expires:
        return NO_VETTING
    level = vocabulary.canonical_vetting(vetting.level)
    return NO_VETTING if level is None else vocabulary.vetting_rank(level)


def required_rank(item: Item, vocabulary: Vocabulary) -> int | None:
    """The rank of the vetting an item requires, or None if the profile lacks it."""
    level = vocabulary.canonical_vetting(item.vetting_required)
    return None if level is None else vocabulary.vetting_rank(level)


def marking_vetting_ok(marking: Marking | None, rank: int, vocabulary: Vocabulary) -> bool:
    """Whether a reader of `rank` meets a marking's `min_vetting` (if any).

    An unknown level fails closed.
    """
    if marking is None or marking.min_vetting is None:
        return True
    level = vocabulary.canonical_vetting(marking.min_vetting)
    return level is not None and rank >= vocabulary.vetting_rank(level)


# -- reader facts ------------------------------------------------------------------


def reader_facts(
    principal: Principal,
    item: Item,
    *,
    rank: int,
    vocabulary: Vocabulary,
) -> set[str]:
    """Facts about the reader relative to the item (not its handling).

    Args:
        principal: the reader.
        item: the item.
        rank: the reader's vetting rank (`reader_rank`).
        vocabulary: the profile's vocabulary.

    Returns:
        `always`, `employment.<type>`, `vetting.at_least.<level>` for every level
        held, `vetting.baseline`, `reader.outside_originator`, `reader.consented`,
        and `reader.invalid` when the employment type is not the profile's.
    """
    facts = {ALWAYS, f"employment.{principal.employment}"}
    if principal.employment not in vocabulary.employment:
        facts.add(READER_INVALID)
    facts.update(f"vetting.at_least.{level}" for level in vocabulary.vetting_levels[: rank + 1])
    if rank >= vocabulary.vetting_rank(vocabulary.baseline_vetting):
        facts.add("vetting.baseline")
    if principal.organisation != item.originator.organisation:
        facts.add("reader.outside_originator")
    if principal.organisation in item.consents:
        facts.add("reader.consented")
    return facts


# -- one function per handling kind --------------------------------------------------

HandlingFact = Callable[[Any, Principal, Item, dt.datetime], str | None]


def _releasable_to(
    rule: ReleasableTo, reader: Principal, _item: Item, _now: dt.datetime
) -> str | None:
    listed = reader.organisation in rule.organisations
    return None if listed else "handling.releasable_to.unlisted"


def _no_agency_staff(_rule: object, _reader: Principal, _item: Item, _now: dt.datetime) -> str:
    return "handling.no_agency_staff"


def _need_to_know(
    rule: NeedToKnow, reader: Principal, _item: Item, _now: dt.datetime
) -> str | None:
    member = not set(rule.groups).isdisjoint(reader.groups)
    return None if member else "handling.need_to_know.not_member"


def _originator_consent(_rule: object, _reader: Principal, _item: Item, _now: dt.datetime) -> str:
    return "handling.originator_consent"


def _embargo(rule: Embargo, _reader: Principal, _item: Item, now: dt.datetime) -> str | None:
    return "handling.embargo.active" if now < rule.until else None


def _sanitise(_rule: object, _reader: Principal, _item: Item, _now: dt.datetime) -> str:
    return "handling.sanitise"


def _recipients_only(
    rule: RecipientsOnly, reader: Principal, _item: Item, _now: dt.datetime
) -> str | None:
    return None if reader.id in rule.principals else "handling.recipients_only.unlisted"


def _eyes_only(rule: EyesOnly, reader: Principal, _item: Item, _now: dt.datetime) -> str | None:
    return None if reader.nationality in rule.nationalities else "handling.eyes_only.unlisted"


def _not_for_evidence(_rule: object, _reader: Principal, _item: Item, _now: dt.datetime) -> str:
    return "handling.not_for_evidence"


def _descriptor(_rule: object, _reader: Principal, _item: Item, _now: dt.datetime) -> str:
    return "handling.descriptor"


HANDLING_FACTS: dict[str, HandlingFact] = {
    "releasable_to": _releasable_to,
    "no_agency_staff": _no_agency_staff,
    "need_to_know": _need_to_know,
    "originator_consent": _originator_consent,
    "embargo": _embargo,
    "sanitise": _sanitise,
    "recipients_only": _recipients_only,
    "eyes_only": _eyes_only,
    "not_for_evidence": _not_for_evidence,
    "descriptor": _descriptor,
}
"""For each handling kind, the function that derives its fact (or None)."""


def handling_facts(
    handling: Iterable[Handling],
    principal: Principal,
    item: Item,
    *,
    now: dt.datetime,
    vocabulary: Vocabulary,
) -> set[str]:
    """Facts derived from handling instructions, for this reader, at `now`.

    A kind the profile does not know, or one with no fact function, gives
    `label.unknown_handling` (which the default policy maps to `none`).

    Args:
        handling: the instructions (the item's, or a marking's).
        principal: the reader.
        item: the item the instructions belong to.
        now: the time of the decision.
        vocabulary: the profile's vocabulary.

    Returns:
        The facts.
    """
    facts: set[str] = set()
    known = vocabulary.handling_kinds
    for rule in handling:
        derive = HANDLING_FACTS.get(rule.kind)
        if derive is None or rule.kind not in known:
            facts.add(LABEL_UNKNOWN_HANDLING)
            continue
        fact = derive(rule, principal, item, now)
        if fact is not None:
            facts.add(fact)
    return facts


def label_facts(item: Item, vocabulary: Vocabulary) -> set[str]:
    """`label.invalid` when the item's label does not fit the profile's vocabulary.

    Items are validated on load against a vocabulary; this check catches an item
    validated against another profile (a different scale or classification list)
    and fails it closed instead of guessing.

    Args:
        item: the item.
        vocabulary: the deciding profile's vocabulary.

    Returns:
        `{"label.invalid"}` or the empty set.
    """
    classification = vocabulary.canonical_classification(item.classification)
    required = required_rank(item, vocabulary)
    if classification is None or required is None:
        return {LABEL_INVALID}
    floor = vocabulary.vetting_rank(vocabulary.default_vetting(classification))
    if required < floor:
        return {LABEL_INVALID}
    categories = vocabulary.portion_categories
    if any(portion.category not in categories for portion in item.portions):
        return {LABEL_INVALID}
    if any(subject.type not in vocabulary.subject_types for subject in item.subjects):
        return {LABEL_INVALID}
    for marking in _markings(item):
        if (
            marking.min_vetting is not None
            and vocabulary.canonical_vetting(marking.min_vetting) is None
        ):
            return {LABEL_INVALID}
    return set()


def _markings(item: Item) -> Iterator[Marking]:
    for portion in item.portions:
        if portion.marking is not None:
            yield portion.marking
    for subject in item.subjects:
        if subject.marking is not None:
            yield subject.marking


# -- content facts ------------------------------------------------------------------


def portion_facts(category: str, sanitise_requested: bool) -> frozenset[str]:
    """Facts about one portion for the content rows (`p2`) of the policy.

    Args:
        category: the portion's category.
        sanitise_requested: whether a `sanitise` instruction on the item names it.

    Returns:
        `category.<category>`, plus `category.sanitise_requested` if named.
    """
    if sanitise_requested:
        return frozenset({f"category.{category}", "category.sanitise_requested"})
    return frozenset({f"category.{category}"})


def subject_facts() -> frozenset[str]:
    """Facts about a subject for the content rows: `subject`."""
    return _SUBJECT_FACTS


_SUBJECT_FACTS = frozenset({"subject"})
