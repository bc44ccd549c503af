"""Words for classes of readers and items: how a diff's cube reads to a security team.

A cube gives, for each dimension of the fact space, the set of values it
covers; a dimension whose set is every value it can take is left out ("any").
The result reads as `<readers>, <items>`:
"agency staff with SC vetting or above, meeting the item's required vetting,
items without handling instructions (not_for_evidence, descriptor aside)".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from dissemination.tooling.factspace import UNLISTED_EMPLOYMENT, Dimension
from dissemination.vocabulary import NO_VETTING, Vocabulary

__all__ = ["FACT_PHRASES", "describe_cube"]

FACT_PHRASES: dict[str, str] = {
    "handling.releasable_to.unlisted": "`releasable_to` not listing their organisation",
    "handling.no_agency_staff": "`no_agency_staff`",
    "handling.need_to_know.not_member": "`need_to_know` for groups they are not in",
    "handling.originator_consent": "`originator_consent`",
    "handling.embargo.active": "an active `embargo`",
    "handling.sanitise": "`sanitise`",
    "handling.recipients_only.unlisted": "`recipients_only` not naming them",
    "handling.eyes_only.unlisted": "`eyes_only` not listing their nationality",
    "handling.not_for_evidence": "`not_for_evidence`",
    "handling.descriptor": "a `descriptor`",
    "label.invalid": "a label that does not fit the profile",
    "label.unknown_handling": "a handling kind the profile does not know",
    "label.integrity_failed": "a label that fails its integrity check",
}
"""For each on/off item fact, what an item with it has."""


class _Space(Protocol):
    @property
    def vocabulary(self) -> Vocabulary: ...

    @property
    def dimensions(self) -> tuple[Dimension, ...]: ...


def _ranks_text(ranks: Iterable[int], vocabulary: Vocabulary) -> str:
    levels = vocabulary.vetting_levels
    chosen = sorted(set(ranks))
    runs: list[list[int]] = []
    for rank in chosen:
        if runs and rank == runs[-1][-1] + 1:
            runs[-1].append(rank)
        else:
            runs.append([rank])
    words: list[str] = []
    for run in runs:
        low, high = run[0], run[-1]
        if low == NO_VETTING:
            words.append("no (or expired) vetting")
            low += 1
            if low > high:
                continue
        if low == high:
            words.append(f"{levels[low]} vetting")
        elif high == len(levels) - 1:
            words.append(f"{levels[low]} vetting or above")
        else:
            words.append(f"{levels[low]} to {levels[high]} vetting")
    return " or ".join(words)


def _vetting(values: frozenset[Any], every: Sequence[Any], vocabulary: Vocabulary) -> str:
    if set(values) == set(every):
        return ""
    by_meets: dict[Any, set[int]] = {}
    for ranks, meets in values:
        by_meets.setdefault(meets, set()).update(ranks)
    all_ranks = {rank for ranks, _meets in every for rank in ranks}
    parts: list[str] = []
    if set(by_meets) == {True, False} and by_meets[True] == by_meets[False]:
        by_meets = {None: by_meets[True]}
    for meets, ranks in sorted(by_meets.items(), key=lambda entry: str(entry[0])):
        words = (
            "" if ranks >= _ranks_for(every, meets) else f"with {_ranks_text(ranks, vocabulary)}"
        )
        if meets is True:
            words = f"{words}, meeting the item's required vetting".lstrip(", ")
        elif meets is False:
            words = f"{words}, below the item's required vetting".lstrip(", ")
        parts.append(words or "with any vetting")
    del all_ranks
    return " or ".join(parts)


def _ranks_for(every: Sequence[Any], meets: Any) -> set[int]:
    return {rank for ranks, value in every if value == meets for rank in ranks}


def _employment(values: frozenset[Any], every: Sequence[Any], vocabulary: Vocabulary) -> str:
    kinds = sorted({kind for group in values for kind in group})
    if set(values) == set(every):
        return "readers"
    names = {
        "agency": "agency staff",
        "contractor": "contractors",
        UNLISTED_EMPLOYMENT: "readers of an unlisted employment type",
    }
    words = [
        names.get(kind, f"{kind} staff")
        + (
            ""
            if kind in vocabulary.employment or kind == UNLISTED_EMPLOYMENT
            else " (a type the profile does not list)"
        )
        for kind in kinds
    ]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _reader_words(space: _Space, cube: Sequence[frozenset[Any]]) -> str:
    employment = "readers"
    words: list[str] = []
    for dimension, values in zip(space.dimensions, cube, strict=True):
        every = [value for value, _facts in dimension.values]
        if dimension.name == "vetting":
            text = _vetting(values, every, space.vocabulary)
            words.extend([text] if text else [])
        elif dimension.name == "employment":
            employment = _employment(values, every, space.vocabulary)
        elif dimension.name in _READER_FACTS and set(values) != set(every) and None not in every:
            words.append(_READER_FACTS[dimension.name][True in values])
    return f"{employment} " + ", ".join(words) if words else employment


_READER_FACTS = {
    "reader.outside_originator": {
        True: "outside the originator's organisation",
        False: "in the originator's organisation",
    },
    "reader.consented": {
        True: "whose organisation the originator has cleared",
        False: "whose organisation the originator has not cleared",
    },
}


def _item_words(space: _Space, cube: Sequence[frozenset[Any]], subject: str) -> str:
    present: list[str] = []
    absent: list[str] = []
    aside: list[str] = []
    labels_valid = True
    tearline = ""
    for dimension, values in zip(space.dimensions, cube, strict=True):
        every = [value for value, _facts in dimension.values]
        name = dimension.name
        if every == [None]:
            if name.startswith("handling."):
                aside.append(name.removeprefix("handling.").split(".")[0])
            continue
        if name.startswith("label.") and values != {False}:
            labels_valid = False
        if set(values) == set(every) or not name.startswith(("handling.", "label.", "tearline")):
            continue
        if name == "tearline.passed":
            tearline = (
                "with a tearline they pass" if True in values else "without a tearline they pass"
            )
        elif True in values:
            present.append(FACT_PHRASES.get(name, f"`{name}`"))
        elif name.startswith("handling."):
            absent.append(FACT_PHRASES.get(name, f"`{name}`"))
    handling = [dim for dim in space.dimensions if dim.name.startswith("handling.")]
    capable = [dim for dim in handling if [value for value, _facts in dim.values] != [None]]
    words: list[str] = ["with a valid label"] if labels_valid and present == [] else []
    if present:
        words.append("with " + " and ".join(present))
    if capable and len(absent) == len(capable):
        words.append(
            "without handling instructions" + (f" ({', '.join(aside)} aside)" if aside else "")
        )
    elif absent:
        words.append(("and none of " if present else "without ") + _either(absent))
    if tearline:
        words.append(tearline)
    return f"{subject} " + ", ".join(words) if words else f"any {subject}"


def describe_cube(space: _Space, cube: Sequence[frozenset[Any]], *, marking: bool = False) -> str:
    """A cube of a fact space in words.

    Args:
        space: the space (its vocabulary and dimensions).
        cube: for each dimension, the values covered.
        marking: describe the handling as on a portion's or subject's marking.

    Returns:
        `<readers>; <items>`.
    """
    subject = "portions or subjects whose marking has" if marking else "items"
    return f"{_reader_words(space, cube)}; {_item_words(space, cube, subject)}"


def _either(phrases: Sequence[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]
