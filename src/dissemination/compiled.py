"""The decision's fast path: facts as bits, and what each item and reader contribute, kept.

A decision depends only on its facts (DESIGN §3), and most of those facts come
from the item alone or the reader alone. This module makes finding them cheap
without deciding anything itself:

- every fact name has a bit, so a set of facts is one `int` (`FactBits`), and
  a union of facts is an `|`;
- what an item's label gives whoever reads it (label checks, handling kinds
  that do not depend on the reader, its markings pre-read) is worked out once
  per item (`ItemPlan`) and kept while the item lives;
- what a reader's vetting gives on a day (`ReaderPlan`) likewise;
- the rows themselves as bit masks (`RowTable`), read by the one meaning the
  library's casbin model gives them (`engine.MODEL`): the view a set of facts
  gets and the rows that fixed it, what a view shows, whether a marking's
  handling adds a cap. This is the derived evaluator: casbin stays the
  authority, and the two are proven equal (tests/test_fast_path.py,
  tests/test_derived_rows.py, `dissemination lint --verify`);
- the answers that do not change for a set of facts are kept by the bits:
  `CompiledPolicy.outcomes` (filled by `decision.decide`) and
  `CompiledPolicy.caps_added`.

Everything belongs to one `Policy` (`Policy.compiled`): a policy loaded from
changed files has new, empty caches, and nothing here is global. Plans are held
by weak reference to their item or reader, so a stream of items decided once
each (`filter` over JSON Lines) does not grow memory. Items and readers are
frozen models: a plan can never go stale.
"""

from __future__ import annotations

import datetime as dt
import itertools
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dissemination.engine import EngineFailure
from dissemination.facts import (
    ALWAYS,
    HANDLING_FACTS,
    LABEL_INTEGRITY_FAILED,
    LABEL_UNKNOWN_HANDLING,
    READER_INVALID,
    label_facts,
    reader_rank,
    required_rank,
)
from dissemination.models import Handling, Item, Marking, Principal
from dissemination.spans import has_spans
from dissemination.vocabulary import View, Vocabulary

if TYPE_CHECKING:
    from dissemination.policy import Policy, PolicyRow

__all__ = [
    "CompiledPolicy",
    "FactBits",
    "ItemPlan",
    "MarkingPlan",
    "ReaderPlan",
    "RowTable",
    "shows_of",
    "view_of",
]

READER_INDEPENDENT_KINDS = frozenset(
    {"no_agency_staff", "originator_consent", "sanitise", "not_for_evidence", "descriptor"}
)
"""Handling kinds whose fact (`facts.HANDLING_FACTS`) holds whoever reads, whenever.

Their fact is derived once per item; every other kind is derived per decision.
"""

_ALWAYS_FAILS = 1 << 30
"""The `min_rank` of a marking whose `min_vetting` the profile does not know."""

_NO_MINIMUM = -(1 << 30)
"""The `min_rank` of a marking without `min_vetting`."""

Derive = Callable[[Any, Principal, Item, dt.datetime], str | None]


class FactBits:
    """A bit for every fact name: a set of facts as an `int`.

    Names get bits on first use, so a fact no vocabulary lists (an employment
    type the profile lacks) still has one and is never lost.
    """

    __slots__ = ("_bits", "_names")

    def __init__(self, names: list[str]) -> None:
        """Give each of `names` a bit, in order."""
        self._bits: dict[str, int] = {}
        self._names: list[str] = []
        for name in names:
            self.bit(name)

    def bit(self, name: str) -> int:
        """The bit of a fact name (allocated on first use)."""
        bit = self._bits.get(name)
        if bit is None:
            bit = self._bits[name] = 1 << len(self._names)
            self._names.append(name)
        return bit

    def of(self, names: set[str] | frozenset[str]) -> int:
        """The bits of a set of fact names."""
        bits = 0
        for name in names:
            bits |= self.bit(name)
        return bits

    def names(self, bits: int) -> frozenset[str]:
        """The set of fact names that `bits` stands for."""
        names = self._names
        found = []
        while bits:
            low = bits & -bits
            found.append(names[low.bit_length() - 1])
            bits ^= low
        return frozenset(found)


def view_of(matching: Iterable[PolicyRow]) -> tuple[View, tuple[PolicyRow, ...]]:
    """The view that the matching `p` rows give, and the rows that fixed it.

    The one meaning of view rows under the library's model (`engine.MODEL`):
    casbin allows a view when some matching allow row grants it or a better
    one, and no matching deny row caps below it; the decision takes the best
    view allowed, else `none`. So the view is the lower of the best grant and
    the lowest cap. The binding rows are the matching deny rows whose cap is
    that view, or, when no cap sets it, the matching allow rows that grant
    exactly that view.

    Args:
        matching: the view rows whose condition holds, in file order.

    Returns:
        (the view, the binding rows in file order).
    """
    rows = tuple(matching)
    granted = max((row.view for row in rows if row.effect == "allow"), default=View.NONE)
    capped = min((row.view for row in rows if row.effect == "deny"), default=View.FULL)
    view = min(granted, capped)
    binding = tuple(row for row in rows if row.effect == "deny" and row.view == view)
    if not binding:
        binding = tuple(row for row in rows if row.effect == "allow" and row.view == view)
    return view, binding


def shows_of(matching: Iterable[PolicyRow], view: View) -> bool:
    """Whether the matching `p2` rows show a portion or subject at `view`.

    Under the library's model (`m2`): some matching allow row for that view,
    and no matching deny row for it.
    """
    allowed = False
    for row in matching:
        if row.view == view:
            if row.effect == "deny":
                return False
            allowed = True
    return allowed


_Masked = tuple[int, int, "PolicyRow"]


class RowTable:
    """A policy's rows as fact-bit masks: the derived evaluator.

    Every question is answered by `view_of` and `shows_of` over the rows whose
    condition holds (`needed` all present, `forbidden` all absent: the
    `holds` of the casbin matcher), so there is one meaning of a row.

    Args:
        view_rows: the `p` rows, in file order.
        content_rows: the `p2` rows, in file order.
        facts: the fact bits to read conditions with.
    """

    __slots__ = ("_decided", "content", "view")

    def __init__(
        self, view_rows: Sequence[PolicyRow], content_rows: Sequence[PolicyRow], facts: FactBits
    ) -> None:
        """Turn each row's condition into two masks."""
        self.view = tuple((facts.of(row.needed), facts.of(row.forbidden), row) for row in view_rows)
        self.content = tuple(
            (facts.of(row.needed), facts.of(row.forbidden), row) for row in content_rows
        )
        self._decided: dict[int, tuple[View, tuple[PolicyRow, ...]]] = {}

    @staticmethod
    def _holding(rows: tuple[_Masked, ...], bits: int) -> tuple[PolicyRow, ...]:
        return tuple(
            row
            for needed, forbidden, row in rows
            if bits & needed == needed and not bits & forbidden
        )

    def signature(self, bits: int) -> int:
        """The view rows whose condition holds for these facts, as a mask (bit `i`: row `i`)."""
        signature = 0
        row_bit = 1
        for needed, forbidden, _row in self.view:
            if bits & needed == needed and not bits & forbidden:
                signature |= row_bit
            row_bit <<= 1
        return signature

    def matching(self, bits: int) -> tuple[PolicyRow, ...]:
        """The view rows whose condition holds for these facts, in file order."""
        return self._holding(self.view, bits)

    def decide(self, bits: int) -> tuple[View, tuple[PolicyRow, ...]]:
        """The view for these facts and the rows that fixed it (`view_of`).

        Worked out once per signature (the set of rows that hold): many sets of
        facts share one, and the answer depends on nothing else.
        """
        signature = self.signature(bits)
        decided = self._decided.get(signature)
        if decided is None:
            rows = self.view
            decided = self._decided[signature] = view_of(
                rows[index][2] for index in range(len(rows)) if signature >> index & 1
            )
        return decided

    def content_matching(self, view: View, bits: int) -> tuple[PolicyRow, ...]:
        """The content rows about `view` whose condition holds for a portion's facts."""
        return tuple(row for row in self._holding(self.content, bits) if row.view == view)

    def shows(self, view: View, bits: int) -> bool:
        """Whether `view` shows a portion or subject with these facts (`shows_of`)."""
        return shows_of(self._holding(self.content, bits), view)

    def caps_added(self, base: int, extra: int) -> bool:
        """Whether `extra` makes a deny row below `full` hold that `base` alone did not."""
        both = base | extra
        return any(
            row.effect == "deny"
            and row.view < View.FULL
            and both & needed == needed
            and not both & forbidden
            and not (base & needed == needed and not base & forbidden)
            for needed, forbidden, row in self.view
        )


class ReaderPlan:
    """What a reader brings to every decision on one day.

    Attributes:
        rank: the vetting rank (`facts.reader_rank`).
        bits: `always`, `employment.*`, `vetting.at_least.*`, `vetting.baseline`,
            `reader.invalid`.
        today: the day it holds for (vetting expires).
        serial: unique among this policy's reader plans (the key of kept decisions).
    """

    __slots__ = ("bits", "rank", "ref", "serial", "today")

    def __init__(
        self, ref: weakref.ref[Principal], today: dt.date, rank: int, bits: int, serial: int
    ) -> None:
        """Hold the values (built by `CompiledPolicy.reader`)."""
        self.serial = serial
        self.ref = ref
        self.today = today
        self.rank = rank
        self.bits = bits


class MarkingPlan:
    """A portion's or subject's marking, pre-read.

    Attributes:
        min_rank: the least rank that passes its `min_vetting`.
        bits: the facts its handling gives whoever reads (and unknown kinds).
        dynamic: its handling instructions whose fact depends on the reader.
        handling: whether it has handling at all.
    """

    __slots__ = ("bits", "dynamic", "handling", "min_rank")

    def __init__(
        self, min_rank: int, bits: int, dynamic: tuple[tuple[Derive, Handling], ...], handling: bool
    ) -> None:
        """Hold the values (built by `CompiledPolicy.item`)."""
        self.min_rank = min_rank
        self.bits = bits
        self.dynamic = dynamic
        self.handling = handling


class ItemPlan:
    """What an item's label gives every decision on it, under one policy.

    Attributes:
        bits: facts that hold whoever reads (label checks, reader-independent handling).
        originator: the originator's organisation.
        consents: the organisations the originator cleared.
        required: the rank the item requires (None if the profile lacks it).
        dynamic: handling instructions whose fact depends on the reader or time.
        markings: a `MarkingPlan` (or None) per portion, then per subject; None
            when no portion or subject has a marking.
        tearline: the positions of tearline portions.
        has_tearline: whether any portion is a tearline.
        spans: whether a shown text may carry inline spans (masking then
            depends on the reader's rank).
        portions: how many portions (the subjects follow them in `markings`).
        content: the content of a decision by its deciding values, kept by
            `decision.decide` (what a view shows depends on nothing else).
        decisions: decisions on this item by reader plan (`ReaderPlan.serial`),
            kept by `decision.decide`; None when a decision may change within
            a day (an embargo, here or in a marking) or depends on a label
            check (the profile requires signed labels).
    """

    __slots__ = (
        "bits",
        "consents",
        "content",
        "decisions",
        "dynamic",
        "has_tearline",
        "markings",
        "originator",
        "portions",
        "ref",
        "required",
        "spans",
        "tearline",
    )

    def __init__(self, ref: weakref.ref[Item]) -> None:
        """An empty plan (filled by `CompiledPolicy.item`)."""
        self.ref = ref
        self.bits = 0
        self.originator = ""
        self.consents: tuple[str, ...] = ()
        self.required: int | None = None
        self.dynamic: tuple[tuple[Derive, Handling], ...] = ()
        self.markings: tuple[MarkingPlan | None, ...] | None = None
        self.tearline: tuple[int, ...] = ()
        self.has_tearline = False
        self.spans = False
        self.portions = 0
        self.content: dict[Any, Any] = {}
        self.decisions: dict[int, Any] | None = None


class _Ref(weakref.ref):  # type: ignore[type-arg]  # a weak reference that knows its key
    __slots__ = ("key",)
    key: int


class CompiledPolicy:
    """The fast path's state for one policy: fact bits, plans and kept answers.

    Args:
        policy: the policy (its vocabulary, settings and rows).
    """

    def __init__(self, policy: Policy) -> None:
        """Give the vocabulary's facts their bits; every cache starts empty."""
        from dissemination.facts import fact_names  # noqa: PLC0415 (keep the import list short)

        self.policy = policy
        self.vocabulary: Vocabulary = policy.vocabulary
        self.facts = FactBits(sorted(fact_names(policy.vocabulary)))
        bit = self.facts.bit
        self.ALWAYS = bit(ALWAYS)
        self.OUTSIDE = bit("reader.outside_originator")
        self.CONSENTED = bit("reader.consented")
        self.MEETS = bit("vetting.meets_required")
        self.TEARLINE = bit("tearline.passed")
        self.INTEGRITY = bit(LABEL_INTEGRITY_FAILED)
        self.UNKNOWN = bit(LABEL_UNKNOWN_HANDLING)
        self.INVALID_READER = bit(READER_INVALID)
        self.require_signed_labels = policy.settings.require_signed_labels
        self.rows = RowTable(policy.view_rows, policy.content_rows, self.facts)
        """The rows as masks: the derived evaluator."""
        self.outcomes: dict[int, Any] = {}
        """Per set of facts (as bits): what `decide` keeps of the rows' answer."""
        self.shared_outcomes: dict[tuple[int, ...], Any] = {}
        """Per (view, lines of the binding rows): what every such set of facts shares."""
        self._caps: dict[tuple[int, int], bool] = {}
        self._items: dict[int, ItemPlan] = {}
        self._readers: dict[int, ReaderPlan] = {}
        self._serials = itertools.count()
        items, readers = self._items, self._readers

        def forget_item(ref: _Ref) -> None:
            if (plan := items.get(ref.key)) is not None and plan.ref is ref:
                del items[ref.key]

        def forget_reader(ref: _Ref) -> None:
            if (plan := readers.get(ref.key)) is not None and plan.ref is ref:
                del readers[ref.key]

        self._forget_item = forget_item
        self._forget_reader = forget_reader

    # -- readers -----------------------------------------------------------------------

    def reader(self, principal: Principal, today: dt.date) -> ReaderPlan:
        """The reader's plan for `today` (kept while the reader lives, per day)."""
        plan = self._readers.get(id(principal))
        if plan is not None and plan.ref() is principal and plan.today == today:
            return plan
        vocabulary = self.vocabulary
        rank = reader_rank(principal, vocabulary, today)
        bits = self.ALWAYS | self.facts.bit(f"employment.{principal.employment}")
        if principal.employment not in vocabulary.employment:
            bits |= self.INVALID_READER
        for level in vocabulary.vetting_levels[: rank + 1]:
            bits |= self.facts.bit(f"vetting.at_least.{level}")
        if rank >= vocabulary.vetting_rank(vocabulary.baseline_vetting):
            bits |= self.facts.bit("vetting.baseline")
        ref = _Ref(principal, self._forget_reader)
        ref.key = id(principal)
        plan = ReaderPlan(ref, today, rank, bits, next(self._serials))
        self._readers[id(principal)] = plan
        return plan

    # -- items ---------------------------------------------------------------------------

    def item(self, item: Item, principal: Principal, now: dt.datetime) -> ItemPlan:
        """The item's plan (kept while the item lives).

        `principal` and `now` are only passed to the fact functions of the
        reader-independent kinds, which ignore them.
        """
        plan = self._items.get(id(item))
        if plan is not None and plan.ref() is item:
            return plan
        ref = _Ref(item, self._forget_item)
        ref.key = id(item)
        plan = ItemPlan(ref)
        vocabulary = self.vocabulary
        facts = self.facts
        plan.bits = facts.of(label_facts(item, vocabulary))
        static, plan.dynamic = self._handling(item.handling, item, principal, now)
        plan.bits |= static
        plan.originator = item.originator.organisation
        plan.consents = item.consents
        plan.required = required_rank(item, vocabulary)
        plan.portions = len(item.portions)
        plan.tearline = tuple(
            index for index, portion in enumerate(item.portions) if portion.category == "tearline"
        )
        plan.has_tearline = bool(plan.tearline)
        parts = (*item.portions, *item.subjects)
        if any(part.marking is not None for part in parts):
            plan.markings = tuple(
                None if part.marking is None else self._marking(part.marking, item, principal, now)
                for part in parts
            )
            known = vocabulary.handling_kinds
            if any(
                rule.kind not in known
                for part in parts
                if part.marking is not None
                for rule in part.marking.handling
            ):
                plan.bits |= self.UNKNOWN
        plan.spans = has_spans(item.title) or any(has_spans(p.text) for p in item.portions)
        timed = any(rule.kind == "embargo" for rule in item.handling) or any(
            rule.kind == "embargo"
            for part in parts
            if part.marking is not None
            for rule in part.marking.handling
        )
        if not timed and not self.require_signed_labels:
            plan.decisions = {}
        self._items[id(item)] = plan
        return plan

    def _handling(
        self,
        handling: tuple[Handling, ...],
        item: Item,
        principal: Principal,
        now: dt.datetime,
    ) -> tuple[int, tuple[tuple[Derive, Handling], ...]]:
        """(bits of the reader-independent facts, the reader-dependent instructions)."""
        known = self.vocabulary.handling_kinds
        bits = 0
        dynamic: list[tuple[Derive, Handling]] = []
        for rule in handling:
            derive: Derive | None = HANDLING_FACTS.get(rule.kind)
            if derive is None or rule.kind not in known:
                bits |= self.UNKNOWN
            elif rule.kind in READER_INDEPENDENT_KINDS:
                fact = derive(rule, principal, item, now)
                if fact is not None:
                    bits |= self.facts.bit(fact)
            else:
                dynamic.append((derive, rule))
        return bits, tuple(dynamic)

    def _marking(
        self, marking: Marking, item: Item, principal: Principal, now: dt.datetime
    ) -> MarkingPlan:
        vocabulary = self.vocabulary
        if marking.min_vetting is None:
            min_rank = _NO_MINIMUM
        else:
            level = vocabulary.canonical_vetting(marking.min_vetting)
            min_rank = _ALWAYS_FAILS if level is None else vocabulary.vetting_rank(level)
        bits, dynamic = self._handling(marking.handling, item, principal, now)
        return MarkingPlan(min_rank, bits, dynamic, bool(marking.handling))

    def dynamic_bits(
        self,
        dynamic: tuple[tuple[Derive, Handling], ...],
        principal: Principal,
        item: Item,
        now: dt.datetime,
    ) -> int:
        """The facts the reader-dependent instructions give this reader at `now`."""
        bits = 0
        for derive, rule in dynamic:
            fact = derive(rule, principal, item, now)
            if fact is not None:
                bits |= self.facts.bit(fact)
        return bits

    # -- kept answers ------------------------------------------------------------------

    def caps_added(self, base: int, extra: int) -> bool:
        """`RowTable.caps_added` (kept).

        Raises:
            EngineFailure: the derived evaluator raised.
        """
        key = (base, extra)
        answer = self._caps.get(key)
        if answer is None:
            try:
                answer = self.rows.caps_added(base, extra)
            except Exception as exc:  # fail closed: whatever the evaluator raises
                raise EngineFailure(type(exc).__name__) from exc
            self._caps[key] = answer
        return answer
