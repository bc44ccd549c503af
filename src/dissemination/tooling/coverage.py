"""Coverage: which policy rows and which facts a run of cases exercised.

A row is exercised by a case when its condition held for the facts of that
case's decision: a view row (`p`) against the decision's facts, a content row
(`p2`) against the facts of a portion or subject that the decided view was
asked about (those that passed their own marking). A row no case exercises is
a rule nobody has pinned down: changing or deleting it breaks no test.

Facts are counted the same way: a fact is exercised when it held in at least
one decision (or, for `category.*` and `subject`, for one portion or subject
asked about).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dissemination.decision import Decision
from dissemination.facts import fact_names, portion_facts, subject_facts
from dissemination.models import Item, Sanitise
from dissemination.policy import Policy, PolicyRow
from dissemination.tooling.runner import CaseResult
from dissemination.vocabulary import View

__all__ = ["Coverage", "content_facts_asked", "measure_coverage"]

_MARKING_RULES = ("marking.min_vetting", "marking.handling")


@dataclass(frozen=True, slots=True)
class Coverage:
    """The rows and facts of one policy that a run exercised.

    Attributes:
        policy: the policy measured.
        rows: every row of the policy, in file order.
        covered: the rule ids of the rows exercised.
        facts: every fact the policy's vocabulary can derive.
        facts_seen: the facts exercised.
    """

    policy: Policy
    rows: tuple[PolicyRow, ...]
    covered: frozenset[str]
    facts: frozenset[str]
    facts_seen: frozenset[str]

    @property
    def missed(self) -> tuple[PolicyRow, ...]:
        """The rows no case exercised, in file order."""
        return tuple(row for row in self.rows if row.rule not in self.covered)

    @property
    def percent(self) -> float:
        """Row coverage, 0 to 100 (100 for a policy without rows)."""
        if not self.rows:
            return 100.0
        return 100.0 * (len(self.rows) - len(self.missed)) / len(self.rows)

    @property
    def facts_missed(self) -> tuple[str, ...]:
        """The facts no case exercised, sorted."""
        return tuple(sorted(self.facts - self.facts_seen))

    @property
    def summary(self) -> str:
        """`rows: 30/30 (100.0%), facts: 28/31`."""
        covered_rows = len(self.rows) - len(self.missed)
        return (
            f"coverage of `{self.policy.name}` ({self.policy.directory}): "
            f"rows {covered_rows}/{len(self.rows)} ({self.percent:.1f}%), "
            f"facts {len(self.facts_seen & self.facts)}/{len(self.facts)}"
        )


def content_facts_asked(item: Item, decision: Decision) -> Iterator[frozenset[str]]:
    """The content facts the decided view was asked about, one set per portion or subject.

    Portions and subjects removed by their own marking are never asked about.

    Args:
        item: the item.
        decision: the decision for one reader.

    Yields:
        The facts of each portion and subject asked about.
    """
    if decision.view < View.GIST:
        return
    marked = {
        (withheld.kind, withheld.id)
        for withheld in decision.withheld
        if withheld.rule in _MARKING_RULES
    }
    sanitise = {
        category
        for rule in item.handling
        if isinstance(rule, Sanitise)
        for category in rule.categories
    }
    for portion in item.portions:
        if ("portion", portion.id) not in marked:
            yield portion_facts(portion.category, portion.category in sanitise)
    for index in range(len(item.subjects)):
        if ("subject", item.subject_key(index)) not in marked:
            yield subject_facts()


def measure_coverage(results: Iterable[CaseResult], policy: Policy) -> Coverage:
    """Measure which rows and facts of `policy` the results exercised.

    Results decided by another policy (another directory) are ignored.

    Args:
        results: the results of a run.
        policy: the policy to measure.

    Returns:
        The coverage.
    """
    covered: set[str] = set()
    seen: set[str] = set()
    for result in results:
        if result.policy.directory != policy.directory:
            continue
        decision = result.decision
        seen |= decision.facts
        covered.update(row.rule for row in policy.matching_rows(decision.facts))
        for facts in content_facts_asked(result.case.item, decision):
            seen |= facts
            covered.update(row.rule for row in policy.content_rows_for(decision.view, facts))
    return Coverage(
        policy=policy,
        rows=policy.rows,
        covered=frozenset(covered),
        facts=fact_names(policy.vocabulary),
        facts_seen=frozenset(seen),
    )
