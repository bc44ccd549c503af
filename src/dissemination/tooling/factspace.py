"""The fact space: every set of facts a reader and an item can give, enumerated.

The facts of a decision (`dissemination.facts`) are finite, but not every
subset of them can occur: `always` always holds, a reader has exactly one
`employment.*`, the `vetting.at_least.*` facts are a prefix of the scale and
`vetting.baseline` follows from them, and a reader meets the item's required
vetting only if they hold at least the lowest level some classification needs.
This module enumerates exactly the reachable sets, as the product of
*dimensions*:

    vetting     the reader's rank (none, or a level) x meets_required
    employment  one of the vocabulary's employment types, or one it does not
                list (`reader.invalid`: a reader validated under another profile)
    tearline.passed, reader.outside_originator, reader.consented
    handling.*  one on/off dimension per handling fact of a kind the profile knows
    label.*     label.invalid, label.unknown_handling, label.integrity_failed

Every point has a witness: a concrete reader, item and time whose decision
derives exactly the point's facts (`FactSpace.witness`), so a difference
found at a point is a difference some real reader sees of some real item.
The three `label.*` dimensions and the unlisted employment value are always
enumerated (fail-closed rows must be compared even when this profile's
settings or the data model cannot reach them); their witnesses say when they
are reachable only under other settings.

Projection: with `relevant=` (the facts some policy rows mention), the
dimensions collapse to the classes those facts can tell apart (a fact no row
mentions cannot change a decision under the standard matcher, which consults
facts only through rows' conditions). A projected point stands for every full
point in its class; its value `None` on an on/off dimension means "either".
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args

from dissemination.decision import LabelCheck
from dissemination.facts import ALWAYS, HANDLING_FACT_NAMES, LABEL_FACT_NAMES, READER_INVALID
from dissemination.models import Employment, Handling, Item, Principal
from dissemination.policy import ProfileSettings
from dissemination.vocabulary import NO_VETTING, Vocabulary

__all__ = [
    "UNLISTED_EMPLOYMENT",
    "WITNESS_NOW",
    "Dimension",
    "FactSpace",
    "Point",
    "Witness",
]

WITNESS_NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
"""The time every witness is decided at."""

UNLISTED_EMPLOYMENT = "<unlisted>"
"""The `employment` value of a reader whose type the profile does not list, when
every type a reader can have is listed (so no real reader reaches it here)."""

MEETS_REQUIRED = "vetting.meets_required"
BASELINE = "vetting.baseline"

# For each handling fact, the kind that derives it and the instruction a
# witness item carries to make it hold.
_HANDLING_WITNESS: dict[str, tuple[str, dict[str, Any]]] = {
    "handling.releasable_to.unlisted": (
        "releasable_to",
        {"kind": "releasable_to", "organisations": ["listed-org"]},
    ),
    "handling.no_agency_staff": ("no_agency_staff", {"kind": "no_agency_staff"}),
    "handling.need_to_know.not_member": (
        "need_to_know",
        {"kind": "need_to_know", "groups": ["OP-EXAMPLE"]},
    ),
    "handling.originator_consent": ("originator_consent", {"kind": "originator_consent"}),
    "handling.embargo.active": (
        "embargo",
        {"kind": "embargo", "until": (WITNESS_NOW + dt.timedelta(days=30)).isoformat()},
    ),
    "handling.sanitise": ("sanitise", {"kind": "sanitise", "categories": ["assessment"]}),
    "handling.recipients_only.unlisted": (
        "recipients_only",
        {"kind": "recipients_only", "principals": ["someone-else"]},
    ),
    "handling.eyes_only.unlisted": ("eyes_only", {"kind": "eyes_only", "nationalities": ["NLD"]}),
    "handling.not_for_evidence": ("not_for_evidence", {"kind": "not_for_evidence"}),
    "handling.descriptor": ("descriptor", {"kind": "descriptor", "name": "EXAMPLE"}),
}

_MODEL_KINDS = tuple(
    member.model_fields["kind"].default for member in get_args(get_args(Handling)[0])
)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One axis of the fact space.

    Attributes:
        name: `vetting`, `employment`, or the on/off fact's name.
        values: the values a point can take, each with the facts it gives.
            `vetting` values are `(ranks, meets)` (the ranks in the class and
            whether the reader meets the item's required vetting, None for
            either); `employment` values are tuples of employment types
            (types the profile does not list, or `UNLISTED_EMPLOYMENT`, give
            `reader.invalid`); on/off
            dimensions have `True`, `False`, or only `None` when projected away.
    """

    name: str
    values: tuple[tuple[Any, frozenset[str]], ...]


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a fact space: a value for every dimension, and its facts.

    Attributes:
        values: one value per dimension, in the space's order.
        facts: the facts the point gives.
    """

    values: tuple[Any, ...]
    facts: frozenset[str]


@dataclass(frozen=True, slots=True)
class Witness:
    """A concrete reader, item and time whose decision has a point's facts.

    Attributes:
        reader: the reader.
        item: the item.
        now: the time to decide at.
        label_check: the label check to pass to `decide`.
        reachable: False when no reader and item reach the point under the
            profile the space was built for (see `note`).
        note: when the point is reached only under other settings, which.
    """

    reader: Principal
    item: Item
    now: dt.datetime
    label_check: LabelCheck | None
    reachable: bool = True
    note: str = ""


def _onoff(name: str, relevant: frozenset[str] | None) -> Dimension:
    if relevant is not None and name not in relevant:
        return Dimension(name, ((None, frozenset()),))
    return Dimension(name, ((False, frozenset()), (True, frozenset({name}))))


class FactSpace:
    """The reachable fact space of a vocabulary, optionally projected.

    Args:
        vocabulary: the profile's vocabulary.
        relevant: when given, project onto these facts (see the module docstring).
        settings: the profile's settings, to say which label points are
            reachable (None: treat every label point as reachable).
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        relevant: frozenset[str] | None = None,
        settings: ProfileSettings | None = None,
    ) -> None:
        """Build the dimensions."""
        self.vocabulary = vocabulary
        self.relevant = relevant
        self.settings = settings
        dimensions = [self._vetting(), self._employment()]
        dimensions.extend(
            _onoff(name, relevant)
            for name in ("tearline.passed", "reader.outside_originator", "reader.consented")
        )
        known = set(vocabulary.handling_kinds)
        dimensions.extend(
            _onoff(name, relevant)
            for name in HANDLING_FACT_NAMES
            if _HANDLING_WITNESS[name][0] in known
        )
        dimensions.extend(_onoff(name, relevant) for name in LABEL_FACT_NAMES)
        self.dimensions = tuple(dimensions)
        self.index = {dimension.name: number for number, dimension in enumerate(self.dimensions)}

    # -- dimensions ---------------------------------------------------------------

    def _keep(self, facts: set[str]) -> frozenset[str]:
        return frozenset(facts if self.relevant is None else facts & self.relevant)

    def _vetting(self) -> Dimension:
        vocabulary = self.vocabulary
        levels = vocabulary.vetting_levels
        top = len(levels) - 1
        lowest_floor = min(
            vocabulary.vetting_rank(need) for need in vocabulary.classifications.values()
        )
        baseline = vocabulary.vetting_rank(vocabulary.baseline_vetting)
        meets_relevant = self.relevant is None or MEETS_REQUIRED in self.relevant
        classes: dict[tuple[bool | None, frozenset[str]], list[int]] = {}
        for rank in range(NO_VETTING, top + 1):
            held = {f"vetting.at_least.{level}" for level in levels[: rank + 1]}
            if rank >= baseline:
                held.add(BASELINE)
            options: list[bool | None]
            if not meets_relevant:
                options = [None]
            else:
                options = [
                    meets
                    for meets in (True, False)
                    if self._meets_possible(rank, meets, top, lowest_floor)
                ]
            for meets in options:
                facts = set(held) | ({MEETS_REQUIRED} if meets else set())
                classes.setdefault((meets, self._keep(facts)), []).append(rank)
        values = tuple(((tuple(ranks), meets), facts) for (meets, facts), ranks in classes.items())
        return Dimension("vetting", values)

    @staticmethod
    def _meets_possible(rank: int, meets: bool, top: int, lowest_floor: int) -> bool:
        if meets:
            return rank >= lowest_floor and rank != NO_VETTING
        return rank < top or rank == NO_VETTING

    def _employment(self) -> Dimension:
        classes: dict[frozenset[str], list[str]] = {}
        listed = self.vocabulary.employment
        for kind in listed:
            classes.setdefault(self._keep({f"employment.{kind}"}), []).append(kind)
        # A reader validated under another profile may hold a type this one
        # does not list: they get `reader.invalid`. Enumerated even when the
        # data model allows no such type, so the fail-closed row is compared.
        unlisted = [kind for kind in get_args(Employment) if kind not in listed]
        for kind in unlisted:
            facts = {READER_INVALID, f"employment.{kind}"}
            classes.setdefault(self._keep(facts), []).append(kind)
        if not unlisted:
            classes.setdefault(self._keep({READER_INVALID}), []).append(UNLISTED_EMPLOYMENT)
        return Dimension(
            "employment", tuple((tuple(kinds), facts) for facts, kinds in classes.items())
        )

    # -- enumeration -----------------------------------------------------------------

    @property
    def size(self) -> int:
        """How many points the space has."""
        return math.prod(len(dimension.values) for dimension in self.dimensions)

    def point(self, values: tuple[Any, ...]) -> Point:
        """The point with these values (one per dimension).

        Raises:
            ValueError: a value is not one of its dimension's.
        """
        facts: set[str] = {ALWAYS}
        for dimension, value in zip(self.dimensions, values, strict=True):
            for candidate, gives in dimension.values:
                if candidate == value:
                    facts |= gives
                    break
            else:
                raise ValueError(f"`{value}` is not a value of `{dimension.name}`")
        return Point(values, frozenset(facts))

    def points(self) -> Iterator[Point]:
        """Every point of the space, in a fixed order.

        Yields:
            The points.
        """
        for combination in itertools.product(*(dimension.values for dimension in self.dimensions)):
            facts: set[str] = {ALWAYS}
            for _value, gives in combination:
                facts |= gives
            yield Point(tuple(value for value, _gives in combination), frozenset(facts))

    # -- witnesses -----------------------------------------------------------------------

    def witness(self, point: Point, *, sanitise: tuple[str, ...] = ("assessment",)) -> Witness:
        """A reader, item and time whose decision derives the point's facts.

        On a projected space the facts agree on the relevant facts; a `None`
        value is witnessed as off.

        Args:
            point: a point of this space.
            sanitise: the categories a witness `sanitise` instruction names.

        Returns:
            The witness.
        """
        vocabulary = self.vocabulary
        value = dict(
            zip((dimension.name for dimension in self.dimensions), point.values, strict=True)
        )
        ranks, meets = value["vetting"]
        rank = ranks[0]
        on = {name for name, held in value.items() if held is True}
        outside = "reader.outside_originator" in on
        reader_org = "reader-org" if outside else "originator-org"
        notes: list[str] = []
        employment = value["employment"][0]
        reader_vocabulary = vocabulary
        if employment == UNLISTED_EMPLOYMENT:
            employment = vocabulary.employment[0]
            notes.append("reached only by a reader whose employment type the profile does not list")
        elif employment not in vocabulary.employment:
            reader_vocabulary = vocabulary.model_copy(
                update={"employment": (*vocabulary.employment, employment)}
            )
        reader: dict[str, Any] = {
            "id": "example-reader",
            "organisation": reader_org,
            "employment": employment,
            "nationality": "GBR",
        }
        if rank != NO_VETTING:
            reader["vetting"] = {"level": vocabulary.vetting_levels[rank]}
        classification, floor = min(
            vocabulary.classifications.items(), key=lambda entry: vocabulary.vetting_rank(entry[1])
        )
        floor_rank = vocabulary.vetting_rank(floor)
        top = len(vocabulary.vetting_levels) - 1
        required_rank = floor_rank if meets or rank == top else max(rank + 1, floor_rank)
        portions = [
            {"id": f"p{number}", "category": category, "text": f"example {category} text"}
            for number, category in enumerate(vocabulary.portion_categories, start=1)
            if category != "tearline" or "tearline.passed" in on
        ]
        handling = [
            {**_HANDLING_WITNESS[name][1], "categories": list(sanitise)}
            if name == "handling.sanitise"
            else _HANDLING_WITNESS[name][1]
            for name in HANDLING_FACT_NAMES
            if name in on
        ]
        item: dict[str, Any] = {
            "id": "EXAMPLE-1",
            "title": "example item",
            "created": "2025-12-01T09:00:00Z",
            "classification": classification,
            "required_vetting": vocabulary.vetting_levels[required_rank],
            "originator": {"organisation": "originator-org", "unit": "unit"},
            "owner": {"organisation": "originator-org", "unit": "unit", "contact": "owner@example"},
            "handling": handling,
            "consents": [reader_org] if "reader.consented" in on else [],
            "subjects": [{"id": "s1", "type": "container", "value": "EXAMPLE0001"}],
            "portions": portions,
        }
        item_vocabulary = vocabulary
        if "label.invalid" in on:
            unknown = "UNKNOWN-TO-PROFILE"
            item_vocabulary = vocabulary.model_copy(
                update={"classifications": {**vocabulary.classifications, unknown: floor}}
            )
            item["classification"] = unknown
        if "label.unknown_handling" in on:
            missing = [kind for kind in _MODEL_KINDS if kind not in vocabulary.handling_kinds]
            if missing:
                item["handling"].append(_HANDLING_WITNESS_BY_KIND[missing[0]])
            else:
                notes.append(
                    "reached only by an item with a handling kind the profile does not know"
                )
        signed = self.settings is None or self.settings.require_signed_labels
        if "label.integrity_failed" in on and not signed:
            notes.append("reached only when the profile requires signed labels")
        verifies = "label.integrity_failed" not in on
        return Witness(
            reader=Principal.model_validate(reader, context={"vocabulary": reader_vocabulary}),
            item=Item.model_validate(item, context={"vocabulary": item_vocabulary}),
            now=WITNESS_NOW,
            label_check=lambda _item: verifies,
            reachable=not notes,
            note="; ".join(notes),
        )


_HANDLING_WITNESS_BY_KIND = dict(_HANDLING_WITNESS.values())
