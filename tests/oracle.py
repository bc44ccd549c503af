"""The oracle: the decision derived step by step, with nothing kept, by casbin.

`decide` (the library) finds facts as bits from kept plans and answers from the
rows read as bit masks (`compiled.RowTable`). This module derives the same
decision the slow, plain way, as DESIGN §4 words it: facts as sets of names,
each marking judged on its own, the view and the content asked of casbin
(`CasbinEngine.decide_view`, `CasbinEngine.shows`), the binding rows and a
marking's added caps found by `PolicyRow.matches` over the rows. The tests
hold `decide` equal to it field for field (tests/test_fast_path.py and
others); it lives here, not in the package, because it is how the package is
checked, not a way to decide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from dissemination.decision import (
    REFER_TO_OWNER,
    Decision,
    LabelCheck,
    Reason,
    _engine_error,
    _label_verifies,
    _masked,
    _pointer_reasons,
    _with_content,
    require_trust,
    utc_day,
)
from dissemination.engine import EngineFailure
from dissemination.facts import (
    LABEL_INTEGRITY_FAILED,
    handling_facts,
    label_facts,
    marking_vetting_ok,
    reader_facts,
    reader_rank,
    required_rank,
)
from dissemination.models import Item, Marking, Principal
from dissemination.policy import Policy, PolicyRow, default_policy
from dissemination.vocabulary import View

__all__ = ["decide_reference"]


def _binding_rows(policy: Policy, facts: frozenset[str], view: View) -> tuple[PolicyRow, ...]:
    matching = [row for row in policy.view_rows if row.matches(facts)]
    caps = tuple(row for row in matching if row.effect == "deny" and row.view == view)
    return caps or tuple(row for row in matching if row.effect == "allow" and row.view == view)


def _caps_added(policy: Policy, base: frozenset[str], extra: frozenset[str]) -> bool:
    both = base | extra
    return any(
        row.effect == "deny"
        and row.view < View.FULL
        and row.matches(both)
        and not row.matches(base)
        for row in policy.view_rows
    )


class _Judge:
    """The per-decision context for judging markings."""

    def __init__(
        self, *, policy: Policy, principal: Principal, item: Item, now: dt.datetime, rank: int
    ) -> None:
        self.policy = policy
        self.principal = principal
        self.item = item
        self.now = now
        self.rank = rank
        # The reader's facts as if they met the required vetting, without any
        # handling: a marking's own handling is judged against these.
        base = reader_facts(principal, item, rank=rank, vocabulary=policy.vocabulary)
        self.base = frozenset(base) | {"vetting.meets_required"}

    def fails(self, marking: Marking | None) -> str | None:
        """The rule by which the reader fails a marking, or None if they pass (DESIGN §4)."""
        if marking is None:
            return None
        if not marking_vetting_ok(marking, self.rank, self.policy.vocabulary):
            return "marking.min_vetting"
        if marking.handling:
            extra = handling_facts(
                marking.handling,
                self.principal,
                self.item,
                now=self.now,
                vocabulary=self.policy.vocabulary,
            )
            if extra and _caps_added(self.policy, self.base, frozenset(extra)):
                return "marking.handling"
        return None


def _marking_kinds_unknown(item: Item, policy: Policy) -> bool:
    known = policy.vocabulary.handling_kinds
    return any(
        part.marking is not None and any(rule.kind not in known for rule in part.marking.handling)
        for part in (*item.portions, *item.subjects)
    )


def decide_reference(
    principal: Principal,
    item: Item,
    *,
    now: dt.datetime,
    policy: Policy | None = None,
    label_check: LabelCheck | None = None,
) -> Decision:
    """What `decide` must return: same arguments, result and errors."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must carry a time zone")
    policy = policy if policy is not None else default_policy()
    require_trust(policy, label_check)
    try:
        return _reference(principal, item, now, policy, label_check)
    except EngineFailure as failure:
        return _engine_error(principal, item, policy, failure)


def _reference(
    principal: Principal,
    item: Item,
    now: dt.datetime,
    policy: Policy,
    label_check: LabelCheck | None,
) -> Decision:
    vocabulary = policy.vocabulary
    rank = reader_rank(principal, vocabulary, utc_day(now))
    base = frozenset(reader_facts(principal, item, rank=rank, vocabulary=vocabulary))
    judge = _Judge(policy=policy, principal=principal, item=item, now=now, rank=rank)
    portion_fails = [judge.fails(portion.marking) for portion in item.portions]
    subject_fails = [judge.fails(subject.marking) for subject in item.subjects]

    facts = set(base)
    facts |= handling_facts(item.handling, principal, item, now=now, vocabulary=vocabulary)
    facts |= label_facts(item, vocabulary)
    if _marking_kinds_unknown(item, policy):
        facts.add("label.unknown_handling")
    if policy.settings.require_signed_labels and not _label_verifies(item, label_check):
        facts.add(LABEL_INTEGRITY_FAILED)
    required = required_rank(item, vocabulary)
    if required is not None and rank >= required:
        facts.add("vetting.meets_required")
    if any(
        portion.category == "tearline" and fail is None
        for portion, fail in zip(item.portions, portion_fails, strict=True)
    ):
        facts.add("tearline.passed")

    fact_set = frozenset(facts)
    view = policy.engine.decide_view(fact_set)  # casbin, the authority
    binding = _binding_rows(policy, fact_set, view)
    decision = Decision(
        item_id=item.id,
        reader_id=principal.id,
        view=view,
        reasons=tuple(Reason(row.rule, policy.words(row.rule)) for row in binding),
        policy=policy.digest,
        facts=fact_set,
    )
    if view is View.NONE:
        return decision
    obligations = tuple(dict.fromkeys(row.obligation for row in binding if row.obligation))
    if view is View.POINTER:
        obligations = obligations or (REFER_TO_OWNER,)
        return replace(
            decision,
            obligations=obligations,
            reasons=_pointer_reasons(obligations),
            explanation=decision.reasons,
        )
    decision = _with_content(
        decision,
        item,
        policy,
        portion_fails,
        subject_fails,
        obligations,
        shows=policy.engine.shows,  # casbin's content answers
    )
    return _masked(decision, item, rank=rank, vocabulary=vocabulary)
