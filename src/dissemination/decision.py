"""The decision: which view of an item a reader gets, what it shows, and why.

`decide` is a pure function of the reader, the item, the time and the policy.
A denial is a value (`Decision.view` is `View.NONE`), never an exception.

The steps:

1. derive facts about the reader and the item's label (`dissemination.facts`);
2. judge each portion's and subject's marking: the reader fails one when their
   vetting is below its `min_vetting`, or when its handling instructions would
   cap them below the view they would have without it;
3. ask casbin for the best view the facts allow;
4. ask casbin which of the passed portions and subjects that view shows;
5. name the rows that fixed the view: the reasons;
6. plan the masking of the shown texts: mentions of withheld subjects and
   inline spans above the reader's vetting (`dissemination.masking`), with a
   reason for each text masked.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from dissemination.engine import EngineFailure
from dissemination.errors import TrustStoreRequiredError
from dissemination.facts import (
    portion_facts,
    subject_facts,
)
from dissemination.masking import TextMask, plan_masks
from dissemination.models import Handling, Item, Principal, Sanitise
from dissemination.policy import Policy, PolicyRow, default_policy
from dissemination.vocabulary import View, Vocabulary

if TYPE_CHECKING:
    from dissemination.compiled import CompiledPolicy, ItemPlan, ReaderPlan

__all__ = [
    "SUPERSEDED",
    "Decision",
    "LabelCheck",
    "Reason",
    "Superseded",
    "Withheld",
    "decide",
    "require_trust",
    "utc_day",
]

LabelCheck = Callable[[Item], bool]

Superseded = Callable[[Item], bool]
"""Whether a newer version of the item's label is known (`decide(..., superseded=...)`)."""

"""A label-integrity check: True when the item's signed label verifies."""

REFER_TO_ORIGINATOR = "refer_to_originator"
REFER_TO_OWNER = "refer_to_owner"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision came out as it did.

    Attributes:
        rule: the policy rule id (`cap.agency`).
        text: the rule's words for a reader.
    """

    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Withheld:
    """A portion or subject the reader does not get, and the rule that removed it.

    This is for the people who run the policy (`explain`); it never appears in
    what a reader is given.

    Attributes:
        kind: `portion` or `subject`.
        id: the portion id, or the subject's id (`s<n>` when it has none).
        rule: `marking.min_vetting`, `marking.handling`, or the content rule
            (or `view.<view>` when no content row shows it); `mask.subject`
            for a subject whose identifier mentions a withheld subject.
    """

    kind: str
    id: str
    rule: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What a reader may see of an item.

    Attributes:
        item_id: the item decided on.
        reader_id: the reader.
        view: the view (`View.NONE` means nothing, not even existence).
        portions: the ids of the portions shown, in item order.
        subjects: the positions (0-based) of the subjects shown, in item order.
        conditions: the grading conditions that travel with the content.
        caveats: the caveats shown in the banner (`NOT FOR EVIDENCE`, descriptors).
        obligations: what the reader must do (`refer_to_originator`).
        reasons: the rules that fixed the view, in the policy's words.
        policy: the digest of the policy that decided.
        facts: the facts the decision rested on (for `explain`, never rendered).
        withheld: what was removed and by which rule (for `explain`, never rendered).
        masks: the edits the renderers apply to the shown texts: mentions of
            withheld subjects and inline spans above the reader's vetting
            masked (`dissemination.masking`); offsets only, never a value.
        explanation: at `pointer`, every reason that fixed the view (for
            `explain`, never rendered); `reasons` then holds one reason in
            plain words, so a reader learns nothing of which instructions the
            item carries. Empty at other views, where `reasons` is the whole.

    `repr` and `str` show the view, how many portions, subjects, conditions
    and reasons (those the reader reads, not `explanation`'s) there are and
    the policy digest: never a condition, a caveat,
    an id, a rule or any other text of the item, the reader or the profile
    (DESIGN §5; `rules` gives the rule ids to whoever asks for them).
    """

    item_id: str
    reader_id: str
    view: View
    portions: tuple[str, ...] = ()
    subjects: tuple[int, ...] = ()
    conditions: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    policy: str = ""
    facts: frozenset[str] = field(default=frozenset(), repr=False)
    withheld: tuple[Withheld, ...] = field(default=(), repr=False)
    masks: tuple[TextMask, ...] = field(default=(), repr=False)
    explanation: tuple[Reason, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        """The decision without any content: the view, counts and the policy digest."""
        digest = self.policy[:12] if all(c in "0123456789abcdef" for c in self.policy) else "?"
        return (
            f"Decision(view={self.view.label}, portions={len(self.portions)}, "
            f"subjects={len(self.subjects)}, conditions={len(self.conditions)}, "
            f"reasons={len(self.reasons)}, policy={digest!r})"
        )

    __str__ = __repr__

    @property
    def full_reasons(self) -> tuple[Reason, ...]:
        """Every reason that fixed the view, for operators (`explain`), at every view."""
        return self.explanation or self.reasons

    @property
    def referral(self) -> str | None:
        """At `pointer`, whom to ask: `refer to originator` or `refer to owner`."""
        if self.view is not View.POINTER:
            return None
        if REFER_TO_ORIGINATOR in self.obligations:
            return "refer to originator"
        return "refer to owner"

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids of every reason (`full_reasons`): the operators' list."""
        return tuple(reason.rule for reason in self.full_reasons)


POINTER_RULE = "view.pointer"
"""The rule id of the one reason a reader reads at `pointer`."""

_POINTER_WORDS = {
    REFER_TO_ORIGINATOR: "you may know only that this item exists; its originator decides who "
    "may see more: refer to the originator",
    REFER_TO_OWNER: "you may know only that this item exists; refer to its owner for what you "
    "may be told",
}


def _pointer_reasons(obligations: tuple[str, ...]) -> tuple[Reason, ...]:
    """The one plain reason a reader reads at `pointer` (issue 10 item 5: nothing more)."""
    key = REFER_TO_ORIGINATOR if REFER_TO_ORIGINATOR in obligations else REFER_TO_OWNER
    return (Reason(POINTER_RULE, _POINTER_WORDS[key]),)


def _caveats(handling: tuple[Handling, ...]) -> list[str]:
    caveats: list[str] = []
    for rule in handling:
        if rule.kind == "not_for_evidence":
            caveats.append("NOT FOR EVIDENCE")
        elif rule.kind == "descriptor":
            caveats.append(rule.name.upper())
    return caveats


def _superseded(item: Item, superseded: Superseded) -> bool:
    """Ask the check; one that fails counts as superseded (fail closed)."""
    try:
        return bool(superseded(item))
    except Exception:  # noqa: BLE001 (any failure of the caller's check fails closed)
        _LOG.exception("the superseded check failed; the item is shown to nobody")
        return True


def require_trust(policy: Policy, label_check: LabelCheck | None) -> None:
    """Refuse to decide by a profile that requires signed labels without a label check.

    Args:
        policy: the profile.
        label_check: the check `decide` was given.

    Raises:
        TrustStoreRequiredError: the profile requires signed labels and there
            is no check (every item would silently be `none`).
    """
    if label_check is None and policy.settings.require_signed_labels:
        raise TrustStoreRequiredError(profile=policy.name)


def utc_day(now: dt.datetime) -> dt.date:
    """The UTC calendar day of an instant: the day vetting expiry is judged on.

    A clearance with `expires: D` is held until 00:00 UTC on D and not from
    then on, however `now` is written (`2027-02-28T23:30:00-05:00` is
    already 1 March in UTC).

    Args:
        now: an aware time.

    Returns:
        Its date in UTC.
    """
    return now.astimezone(dt.UTC).date()


def decide(
    principal: Principal,
    item: Item,
    *,
    now: dt.datetime,
    policy: Policy | None = None,
    label_check: LabelCheck | None = None,
    superseded: Superseded | None = None,
) -> Decision:
    """Decide which view of `item` the reader `principal` gets at `now`.

    Never raises for a denial: a reader who may not know of the item gets a
    decision with `view == View.NONE`. Any fact that cannot be established
    (unknown vocabulary, unknown handling kind, unverifiable label when the
    profile requires signed labels) lowers the view, never raises it.

    This is the fast path (`dissemination.compiled`): the same facts as the
    tests' oracle (tests/oracle.py) derives, found as bits from what the item
    and the reader contribute (worked out once each), and the rows' answer for
    a set of facts (the derived evaluator, proven equal to casbin) worked out
    once and kept. A decision on an item without embargoes, under
    a profile that does not require signed labels, depends on nothing but the
    reader, the item and the day, so it is kept too (at most `PAIRS_KEPT` per
    item, for as long as the item lives). It returns exactly the decision
    the oracle returns (tests/test_fast_path.py).

    Args:
        principal: the reader.
        item: the item.
        now: the time of the decision, with a time zone (embargoes, vetting expiry).
        policy: the profile to decide by; the embedded default when None.
        label_check: when the profile sets `require_signed_labels`, the check
            that the item's signed label verifies (an item that fails it is
            shown to nobody); required by such a profile.
        superseded: whether a newer version of the item's (signed) label is
            known, e.g. from the newest version seen per item id; a
            superseded item, or one the check cannot answer for, is `none`
            with reason `label.superseded` (a replayed older label, signed
            before a handling instruction was added, shows nothing).

    Returns:
        The decision.

    Raises:
        ValueError: `now` has no time zone (a programming error, not a denial).
        TrustStoreRequiredError: the profile requires signed labels and no
            `label_check` was given (a set-up error: refused, not a silent `none`).
    """
    if now.utcoffset() is None:  # also None when `now` has no tzinfo
        raise ValueError("`now` must carry a time zone")
    if policy is None:
        policy = default_policy()
    require_trust(policy, label_check)
    if superseded is not None and _superseded(item, superseded):
        return Decision(
            item.id, principal.id, View.NONE, reasons=(SUPERSEDED,), policy=policy.digest
        )
    try:
        return _decide(principal, item, now, policy, label_check)
    except EngineFailure as failure:
        return _engine_error(principal, item, policy, failure)


_LOG = logging.getLogger(__name__)

SUPERSEDED = Reason(
    "label.superseded", "a newer version of this item exists, so this one is shown to nobody"
)
"""The reason of a decision on a superseded version (its view is `none`)."""

ENGINE_ERROR = Reason("engine.error", "the policy could not be evaluated, so nothing is shown")
"""The reason of a decision the engine failed to make (its view is `none`)."""


def _engine_error(
    principal: Principal, item: Item, policy: Policy, failure: EngineFailure
) -> Decision:
    """Fail closed: `none`, reason `engine.error`, logged with the error's type only."""
    _LOG.error("the policy engine failed while deciding (%s); the view is none", failure)
    return Decision(item.id, principal.id, View.NONE, reasons=(ENGINE_ERROR,), policy=policy.digest)


def _decide(
    principal: Principal,
    item: Item,
    now: dt.datetime,
    policy: Policy,
    label_check: LabelCheck | None,
) -> Decision:
    compiled = policy.compiled
    reader = compiled.reader(principal, utc_day(now))
    plan = compiled.item(item, principal, now)
    decisions = plan.decisions
    if decisions is None:  # time-dependent item, or signed labels required: never kept
        return _fresh(compiled, reader, plan, principal, item, now, label_check)
    serial = reader.serial
    decision = decisions.get(serial)
    if decision is None:
        decision = _fresh(compiled, reader, plan, principal, item, now, label_check)
        if len(decisions) >= PAIRS_KEPT:
            _make_room(decisions)
        decisions[serial] = decision
    return decision


PAIRS_KEPT = 64
"""The most decisions kept per item (one per reader and day)."""


def _make_room(decisions: dict[int, Decision]) -> None:
    """Drop one kept decision of a full item, so that the rest keep answering.

    Mostly the newest: readers who take turns at an item (a screen each) then
    keep PAIRS_KEPT of their decisions, where emptying the item made every one
    of more than PAIRS_KEPT readers miss every time. One miss in eight drops
    one at a place that turns through the whole item instead, so decisions of
    readers who never come back (another day, a reader object gone) do not stay
    for good. (The place was once picked by the reader's serial: a reader
    always dropped the same place, and newcomers could drop only each other.)
    Which one is dropped changes no decision, only which are kept.
    """
    turn = next(_DROPS)
    if turn % 8:
        decisions.popitem()
    else:
        del decisions[list(decisions)[turn // 8 % len(decisions)]]


_DROPS = itertools.count()
"""Counts the drops of `_make_room` (process-wide; only which are kept depends on it)."""


def _fresh(  # noqa: PLR0917 (private helper of decide)
    compiled: CompiledPolicy,
    reader: ReaderPlan,
    plan: ItemPlan,
    principal: Principal,
    item: Item,
    now: dt.datetime,
    label_check: LabelCheck | None,
) -> Decision:
    """The decision from the plans: the reference's facts as bits, casbin's answer kept."""
    policy = compiled.policy
    rank = reader.rank
    bits = reader.bits | plan.bits
    organisation = principal.organisation
    if organisation != plan.originator:
        bits |= compiled.OUTSIDE
    if organisation in plan.consents:
        bits |= compiled.CONSENTED
    if plan.dynamic:
        bits |= compiled.dynamic_bits(plan.dynamic, principal, item, now)
    if compiled.require_signed_labels and not _label_verifies(item, label_check):
        bits |= compiled.INTEGRITY
    required = plan.required
    if required is not None and rank >= required:
        bits |= compiled.MEETS
    fails: tuple[str | None, ...] | None = None
    if plan.markings is None:
        if plan.has_tearline:
            bits |= compiled.TEARLINE
    else:
        base = reader.bits | (bits & (compiled.OUTSIDE | compiled.CONSENTED)) | compiled.MEETS
        fails = _marking_fails(compiled, plan, principal, item, now, base, rank)
        if any(fails[index] is None for index in plan.tearline):
            bits |= compiled.TEARLINE

    outcome = compiled.outcomes.get(bits)
    if outcome is None:
        outcome = _outcome(policy, bits)
    view = outcome.view
    if view <= View.POINTER:
        return Decision(item.id, principal.id, *outcome.tail)
    key = (view, outcome.obligations, fails, rank if plan.spans else None)
    content = plan.content.get(key)
    if content is None:
        content = plan.content[key] = _content(item, policy, plan, outcome, fails, rank)
    portions, subjects, conditions, caveats, more_reasons, withheld, masks = content
    return Decision(
        item.id,
        principal.id,
        view,
        portions,
        subjects,
        conditions,
        caveats,
        outcome.obligations,
        outcome.reasons + more_reasons if more_reasons else outcome.reasons,
        policy.digest,
        outcome.facts,
        withheld,
        masks,
    )


class _Outcome:
    """What casbin's answer fixes for one set of facts, kept by `CompiledPolicy.outcomes`.

    Attributes:
        view: the view.
        reasons: the binding rows, in the policy's words.
        obligations: the binding rows' obligations (`refer_to_owner` added at `pointer`).
        facts: the facts, as `Decision.facts` carries them.
        tail: at `none` and `pointer`, every field of the decision after the two ids.
    """

    __slots__ = ("facts", "obligations", "reasons", "tail", "view")

    def __init__(self, policy: Policy, facts: frozenset[str], bits: int) -> None:
        """Ask the policy's rows (the derived evaluator) for the view and its binding rows."""
        view, binding = policy.decide_bits(bits)
        key = (view, *(row.line for row in binding))  # a row is known by its line
        shared: _Shared | None = policy.compiled.shared_outcomes.get(key)
        if shared is None:
            shared = policy.compiled.shared_outcomes[key] = _shared(policy, view, binding)
        self.view: View = shared[0]
        self.reasons: tuple[Reason, ...] = shared[1]
        self.obligations: tuple[str, ...] = shared[2]
        tail = shared[3]
        self.facts = facts
        self.tail = (*tail[:_FACTS], facts, *tail[_FACTS + 1 :])


_Shared = tuple[View, tuple[Reason, ...], tuple[str, ...], tuple[Any, ...]]


def _shared(policy: Policy, view: View, binding: tuple[PolicyRow, ...]) -> _Shared:
    """What every set of facts with this view and these binding rows shares (facts aside)."""
    reasons = tuple(Reason(row.rule, policy.words(row.rule)) for row in binding)
    obligations = tuple(dict.fromkeys(row.obligation for row in binding if row.obligation))
    if view is View.NONE:
        obligations = ()
    elif view is View.POINTER:
        obligations = obligations or (REFER_TO_OWNER,)
    if view is View.POINTER:  # the reader reads one plain reason; `explain` the rest
        template = Decision(
            "",
            "",
            view,
            obligations=obligations,
            reasons=_pointer_reasons(obligations),
            policy=policy.digest,
            explanation=reasons,
        )
    else:
        template = Decision(
            "", "", view, obligations=obligations, reasons=reasons, policy=policy.digest
        )
    return view, reasons, obligations, tuple(getattr(template, name) for name in _FIELDS[2:])


_FIELDS = tuple(field.name for field in fields(Decision))
assert _FIELDS[:2] == ("item_id", "reader_id")  # noqa: S101 (the fast path builds decisions by position)
_FACTS = _FIELDS.index("facts") - 2
"""Where `facts` sits in an outcome's `tail`."""


def _outcome(policy: Policy, bits: int) -> _Outcome:
    compiled = policy.compiled
    outcome = compiled.outcomes[bits] = _Outcome(policy, compiled.facts.names(bits), bits)
    return outcome


def _marking_fails(  # noqa: PLR0917 (private helper of decide, called once)
    compiled: CompiledPolicy,
    plan: ItemPlan,
    principal: Principal,
    item: Item,
    now: dt.datetime,
    base: int,
    rank: int,
) -> tuple[str | None, ...]:
    """`_Judge.fails` of every portion's, then every subject's, marking, from the plan."""
    fails: list[str | None] = []
    for marking in plan.markings or ():
        if marking is None:
            fails.append(None)
        elif rank < marking.min_rank:
            fails.append("marking.min_vetting")
        elif (
            marking.handling
            and (
                extra := marking.bits
                | (
                    compiled.dynamic_bits(marking.dynamic, principal, item, now)
                    if marking.dynamic
                    else 0
                )
            )
            and compiled.caps_added(base, extra)
        ):
            fails.append("marking.handling")
        else:
            fails.append(None)
    return tuple(fails)


def _content(  # noqa: PLR0917 (private helper of decide, called once)
    item: Item,
    policy: Policy,
    plan: ItemPlan,
    outcome: _Outcome,
    fails: tuple[str | None, ...] | None,
    rank: int,
) -> tuple[Any, ...]:
    """What a `gist`, `sanitised` or `full` view shows, by the reference steps."""
    if fails is None:
        portion_fails: list[str | None] = [None] * plan.portions
        subject_fails: list[str | None] = [None] * len(item.subjects)
    else:
        portion_fails = list(fails[: plan.portions])
        subject_fails = list(fails[plan.portions :])
    template = Decision(item.id, "", outcome.view)
    done = _with_content(template, item, policy, portion_fails, subject_fails, outcome.obligations)
    done = _masked(done, item, rank=rank, vocabulary=policy.vocabulary)
    return (
        done.portions,
        done.subjects,
        done.conditions,
        done.caveats,
        done.reasons,
        done.withheld,
        done.masks,
    )


def _with_content(  # noqa: PLR0917 (private helper of decide, called once)
    decision: Decision,
    item: Item,
    policy: Policy,
    portion_fails: list[str | None],
    subject_fails: list[str | None],
    obligations: tuple[str, ...],
    shows: Callable[[View, frozenset[str]], bool] | None = None,
) -> Decision:
    """Fill in what a `gist`, `sanitised` or `full` decision shows.

    `shows` answers the content rows (the derived evaluator, `Policy.shows`,
    unless the caller gives another: the tests' oracle gives casbin's).
    """
    view = decision.view
    shows = shows or policy.shows
    sanitise_categories = {
        category
        for rule in item.handling
        if isinstance(rule, Sanitise)
        for category in rule.categories
    }
    shown_portions: list[str] = []
    withheld: list[Withheld] = []
    for portion, fail in zip(item.portions, portion_fails, strict=True):
        if fail is not None:
            withheld.append(Withheld("portion", portion.id, fail))
            continue
        pfacts = portion_facts(portion.category, portion.category in sanitise_categories)
        if shows(view, pfacts):
            shown_portions.append(portion.id)
            continue
        denying = [
            row.rule for row in policy.content_rows_for(view, pfacts) if row.effect == "deny"
        ]
        withheld.append(
            Withheld("portion", portion.id, denying[0] if denying else f"view.{view.label}")
        )
    shown_subjects: list[int] = []
    subject_shown = shows(view, subject_facts())
    for index, fail in enumerate(subject_fails):
        if fail is None and subject_shown:
            shown_subjects.append(index)
        else:
            rule = fail or f"view.{view.label}"
            withheld.append(Withheld("subject", item.subject_key(index), rule))
    conditions: tuple[str, ...] = ()
    if item.grading is not None and item.grading.conditions:
        conditions = (item.grading.conditions,)
    return replace(
        decision,
        portions=tuple(shown_portions),
        subjects=tuple(shown_subjects),
        conditions=conditions,
        caveats=_shown_caveats(item, shown_portions, shown_subjects),
        obligations=obligations,
        withheld=tuple(withheld),
    )


def _shown_caveats(item: Item, portions: Sequence[str], subjects: Sequence[int]) -> tuple[str, ...]:
    """The banner's caveats: the item's, then those of the shown portions and subjects."""
    caveats = _caveats(item.handling)
    shown = set(portions)
    for portion in item.portions:
        if portion.id in shown and portion.marking is not None:
            caveats.extend(_caveats(portion.marking.handling))
    for index in subjects:
        marking = item.subjects[index].marking
        if marking is not None:
            caveats.extend(_caveats(marking.handling))
    return tuple(dict.fromkeys(caveats))


def _masked(decision: Decision, item: Item, *, rank: int, vocabulary: Vocabulary) -> Decision:
    """Mask withheld subjects and spans in the shown texts (`dissemination.masking`)."""
    plan = plan_masks(
        item,
        view=decision.view,
        portions=decision.portions,
        subjects=decision.subjects,
        conditions=bool(decision.conditions),
        rank=rank,
        vocabulary=vocabulary,
    )
    if not plan.masks and not plan.hidden:
        return decision
    hidden = set(plan.hidden)
    subjects = tuple(index for index in decision.subjects if index not in hidden)
    return replace(
        decision,
        subjects=subjects,
        caveats=_shown_caveats(item, decision.portions, subjects),
        reasons=(*decision.reasons, *(Reason(rule, text) for rule, text in plan.reasons())),
        withheld=(
            *decision.withheld,
            *(
                Withheld("subject", item.subject_key(index), "mask.subject")
                for index in plan.hidden
            ),
        ),
        masks=plan.masks,
    )


def _label_verifies(item: Item, label_check: LabelCheck | None) -> bool:
    if label_check is None:
        return False
    try:
        return bool(label_check(item))
    except Exception:  # noqa: BLE001 (fail closed: any failure of the check is a failed label)
        return False
