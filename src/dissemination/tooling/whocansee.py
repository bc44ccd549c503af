"""Who can see an item, what a reader can see, what changes for real data, and why.

Tables of decisions over real readers and items, for the people who run the
policy. They name items and readers by id and views by name; never content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dissemination.decision import Decision, LabelCheck, decide
from dissemination.models import Item, Principal
from dissemination.policy import Policy
from dissemination.tooling.diff import decided_alike
from dissemination.vocabulary import View

__all__ = [
    "CorpusChange",
    "corpus_changes",
    "explain",
    "explain_decision",
    "what_can_see",
    "who_can_see",
]


def who_can_see(
    item: Item,
    readers: Iterable[Principal],
    *,
    now: dt.datetime,
    policy: Policy,
    label_check: LabelCheck | None = None,
) -> list[tuple[Principal, Decision]]:
    """Each reader's decision for one item, best view first.

    Args:
        item: the item.
        readers: the readers.
        now: the time of the decisions.
        policy: the policy.
        label_check: see `decide` (required when the policy requires signed labels).

    Returns:
        (reader, decision) pairs, by view (best first), then reader id.
    """
    pairs = [
        (reader, decide(reader, item, now=now, policy=policy, label_check=label_check))
        for reader in readers
    ]
    return sorted(pairs, key=lambda pair: (-pair[1].view, pair[0].id))


def what_can_see(
    reader: Principal,
    items: Iterable[Item],
    *,
    now: dt.datetime,
    policy: Policy,
    label_check: LabelCheck | None = None,
) -> list[tuple[Item, Decision]]:
    """One reader's decision for each item, best view first.

    Args:
        reader: the reader.
        items: the items.
        now: the time of the decisions.
        policy: the policy.
        label_check: see `decide` (required when the policy requires signed labels).

    Returns:
        (item, decision) pairs, by view (best first), then item id.
    """
    pairs = [
        (item, decide(reader, item, now=now, policy=policy, label_check=label_check))
        for item in items
    ]
    return sorted(pairs, key=lambda pair: (-pair[1].view, pair[0].id))


@dataclass(frozen=True, slots=True)
class CorpusChange:
    """A real reader and item whose decision differs between two policies.

    Attributes:
        reader: the reader's id.
        item: the item's id.
        old: the old view, portions and obligations, in words.
        new: the new ones.
    """

    reader: str
    item: str
    old: str
    new: str


def _words(decision: Decision) -> str:
    words = decision.view.label
    if decision.view >= View.GIST:
        words += f" [{', '.join(decision.portions)}]"
    if decision.obligations:
        words += f" ({', '.join(decision.obligations)})"
    return words


def corpus_changes(
    old: Policy,
    new: Policy,
    readers: Iterable[Principal],
    items: Iterable[Item],
    *,
    now: dt.datetime,
) -> list[CorpusChange]:
    """The real readers and items whose decision changes from `old` to `new`.

    Args:
        old: the deployed policy.
        new: the proposed policy.
        readers: the readers.
        items: the items.
        now: the time of the decisions.

    Returns:
        One entry per (reader, item) whose view, shown portions or subjects,
        or obligations differ.
    """
    changes: list[CorpusChange] = []
    item_list = list(items)
    for reader in readers:
        for item in item_list:
            before = decide(reader, item, now=now, policy=old)
            after = decide(reader, item, now=now, policy=new)
            if not decided_alike(before, after):
                changes.append(CorpusChange(reader.id, item.id, _words(before), _words(after)))
    return changes


def explain(
    reader: Principal,
    item: Item,
    *,
    now: dt.datetime,
    policy: Policy,
    label_check: LabelCheck | None = None,
) -> dict[str, Any]:
    """Why a reader gets the view they get: facts, matching rows, the winning cap, withheld parts.

    Args:
        reader: the reader.
        item: the item.
        now: the time of the decision.
        policy: the policy.
        label_check: see `decide` (required when the policy requires signed labels).

    Returns:
        JSON-ready data: `facts`, `matching_rows` (each with effect, view and
        file:line), `base` (the best view the allow rows grant), `cap` (the
        lowest cap and the rows that set it, or None), `fixed_by`, `reasons`,
        and `withheld` (each portion or subject removed, by id, with the rule
        and its words).
    """
    decision = decide(reader, item, now=now, policy=policy, label_check=label_check)
    return explain_decision(item, decision, policy)


def explain_decision(item: Item, decision: Decision, policy: Policy) -> dict[str, Any]:
    """`explain` of a decision already made (`view --explain` passes its own).

    Args:
        item: the item decided on.
        decision: the decision (made with whatever label check applied).
        policy: the policy that made it.

    Returns:
        The same data as `explain`.
    """
    matching = policy.matching_rows(decision.facts)
    grants = [row.view for row in matching if row.effect == "allow"]
    caps = [row for row in matching if row.effect == "deny"]
    lowest = min((row.view for row in caps), default=None)
    return {
        "item": item.id,
        "reader": decision.reader_id,
        "view": decision.view.label,
        "facts": sorted(decision.facts),
        "matching_rows": [
            {"rule": row.rule, "effect": row.effect, "view": row.view.label, "at": row.location}
            for row in matching
        ],
        "base": max(grants, default=View.NONE).label,
        "cap": None
        if lowest is None
        else {"view": lowest.label, "rules": [row.rule for row in caps if row.view == lowest]},
        "fixed_by": list(decision.rules),
        "reasons": [{"rule": reason.rule, "text": reason.text} for reason in decision.full_reasons],
        "withheld": [
            {
                "kind": withheld.kind,
                "id": withheld.id,
                "rule": withheld.rule,
                "why": _withheld_words(withheld.rule, policy),
            }
            for withheld in decision.withheld
        ],
    }


def _withheld_words(rule: str, policy: Policy) -> str:
    if rule == "marking.min_vetting":
        return "its marking needs more vetting than the reader holds"
    if rule == "marking.handling":
        return "its marking's handling would cap the reader below full"
    if rule.startswith("view."):
        return f"no content row shows it at `{rule.removeprefix('view.')}`"
    return policy.words(rule)
