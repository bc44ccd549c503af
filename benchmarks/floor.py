"""The floor: the default profile's view rule (DESIGN §4) written by hand in Python.

No casbin, no caches, no fact strings: the §4 table as `if` statements over the
models, deciding only the view. It is what a decision costs when the rules are
code, and the benchmark checks it agrees with the library on every pair it
times, so it is a fair yardstick and not a shortcut. (Items are validated, so
labels outside the vocabulary, which the profile maps to `none`, cannot occur.)
"""

from __future__ import annotations

import datetime as dt

from dissemination.models import Handling, Item, Marking, Principal

RANK = {"BPSS": 0, "CTC": 1, "SC": 2, "eSC": 3, "DV": 4, "eDV": 5}
NONE, POINTER, GIST, SANITISED, FULL = range(5)
_AGENCY = ("agency", "contractor")


def _cap(  # noqa: PLR0912 (the §4 table, one branch per row, is the point)
    handling: tuple[Handling, ...], reader: Principal, item: Item, now: dt.datetime
) -> int:
    """The lowest cap the handling instructions put on this reader (FULL when none)."""
    cap = FULL
    outside = reader.organisation != item.originator.organisation
    for rule in handling:
        kind = rule.kind
        if kind == "releasable_to":
            if outside and reader.organisation not in rule.organisations:
                cap = min(cap, POINTER)
        elif kind == "no_agency_staff":
            if reader.employment in _AGENCY:
                cap = min(cap, POINTER)
        elif kind == "need_to_know":
            if not set(rule.groups).intersection(reader.groups):
                cap = min(cap, POINTER)
        elif kind == "originator_consent":
            if outside and reader.organisation not in item.consents:
                cap = min(cap, POINTER)
        elif kind == "embargo":
            if outside and now < rule.until:
                cap = min(cap, POINTER)
        elif kind == "sanitise":
            if outside:
                cap = min(cap, SANITISED)
        elif kind == "recipients_only":
            if reader.id not in rule.principals:
                return NONE
        elif kind == "eyes_only":
            if reader.nationality not in rule.nationalities:
                return NONE
        elif kind not in ("not_for_evidence", "descriptor"):
            return NONE  # a kind the profile does not know
    return cap


def _passes(
    marking: Marking | None, rank: int, reader: Principal, item: Item, now: dt.datetime
) -> bool:
    if marking is None:
        return True
    if marking.min_vetting is not None and rank < RANK[marking.min_vetting]:
        return False
    return not marking.handling or _cap(marking.handling, reader, item, now) == FULL


def view(reader: Principal, item: Item, now: dt.datetime) -> int:
    """The view (0 `none` ... 4 `full`) the default profile gives `reader` of `item`."""
    vetting = reader.vetting
    rank = -1
    if vetting is not None and (vetting.expires is None or now.date() < vetting.expires):
        rank = RANK[vetting.level]
    cap = _cap(item.handling, reader, item, now)
    if reader.employment in _AGENCY:
        cap = min(cap, SANITISED)
    if rank >= RANK[item.required_vetting or "BPSS"]:
        base = FULL
    elif rank >= 0 and any(
        portion.category == "tearline" and _passes(portion.marking, rank, reader, item, now)
        for portion in item.portions
    ):
        base = GIST
    else:
        base = POINTER
    return min(base, cap)
