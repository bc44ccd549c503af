"""Prove a profile's derived evaluator decides as casbin does: `dissemination lint --verify`.

`decide` answers from the rows read as bit masks (`compiled.RowTable`); casbin,
running the library's model over the same rows, is the authority. This module
asks both, over the fact space, and reports every point where they differ:

- view rows (`p`): every point of the fact space projected onto the facts the
  rows name (`factspace.FactSpace`: a fact no row names cannot change what the
  matcher sees), the view casbin allows (four uncached enforce calls) against
  the evaluator's;
- content rows (`p2`): every view above `none` x every portion's facts
  (`category.<c>`, with and without `category.sanitise_requested`) and a
  subject's, casbin's `m2` answer against the evaluator's.

With `exhaustive=False` the view rows are checked at one point per *row
signature* (the set of rows whose condition holds) instead of at every point.
Under the library's model that covers every point too: the matcher reads a
request's facts only through `holds(r.facts, p.when)` of each row, so two
points with one signature get one answer from casbin, and the evaluator's
answer is a function of the signature by construction. It is the check the
policy-file mutation suite runs on each edit; `lint --verify` asks at every point.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dissemination.policy import Policy
from dissemination.tooling.diff import _masks
from dissemination.tooling.factspace import FactSpace
from dissemination.vocabulary import View

__all__ = ["Disagreement", "Verification", "verify_policy"]

_CONTENT_VIEWS = (View.POINTER, View.GIST, View.SANITISED, View.FULL)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A point where the evaluator and casbin answer differently.

    Attributes:
        kind: `view` (a `p` question) or `content` (a `p2` question).
        facts: the point's facts (fact names only, never content).
        view: for `content`, the view asked about.
        derived: the evaluator's answer.
        casbin: casbin's answer.
    """

    kind: str
    facts: frozenset[str]
    view: View | None
    derived: str
    casbin: str

    def describe(self) -> str:
        """One line: where and the two answers."""
        facts = " & ".join(sorted(self.facts))
        where = f"at `{self.view.label}` for {facts}" if self.view is not None else f"at {facts}"
        return f"{self.kind} {where}: the evaluator says `{self.derived}`, casbin `{self.casbin}`"


@dataclass(frozen=True, slots=True)
class Verification:
    """What `verify_policy` checked and found.

    Attributes:
        points: view-row points asked of both (every point, or one per signature).
        space: points of the projected fact space.
        signatures: distinct row signatures in the space.
        content_points: content questions asked of both.
        casbin_calls: enforce calls made.
        exhaustive: whether every point was asked.
        disagreements: every point where the answers differ.
        seconds: how long it took.
    """

    points: int
    space: int
    signatures: int
    content_points: int
    casbin_calls: int
    exhaustive: bool
    disagreements: tuple[Disagreement, ...]
    seconds: float

    @property
    def agrees(self) -> bool:
        """Whether the evaluator and casbin agree everywhere asked."""
        return not self.disagreements

    def summary(self) -> str:
        """One line for the CLI."""
        how = "every point" if self.exhaustive else "one point per row signature"
        verdict = "agree" if self.agrees else f"disagree at {len(self.disagreements)} points"
        return (
            f"verify: the evaluator and casbin {verdict}: {self.points} of {self.space} "
            f"fact-space points ({how}, {self.signatures} signatures) and "
            f"{self.content_points} content points, {self.casbin_calls} casbin calls, "
            f"{self.seconds:.1f}s"
        )


def _space(policy: Policy) -> FactSpace:
    relevant = frozenset(fact for row in policy.view_rows for fact in row.needed | row.forbidden)
    return FactSpace(policy.vocabulary, relevant=relevant)


def _one_per_signature(space: FactSpace, policy: Policy) -> dict[int, tuple[Any, ...]]:
    """A point (its dimension values) for every row signature of the space."""
    base, masks = _masks(space, policy.view_rows)
    found: dict[int, tuple[Any, ...]] = {base: ()}
    for dimension, per_value in zip(space.dimensions, masks, strict=True):
        grown: dict[int, tuple[Any, ...]] = {}
        for mask, values in found.items():
            for (value, _facts), allowed in zip(dimension.values, per_value, strict=True):
                grown.setdefault(mask & allowed, (*values, value))
        found = grown
    return found


def _content_questions(policy: Policy) -> Iterator[tuple[View, frozenset[str]]]:
    for view in _CONTENT_VIEWS:
        yield view, frozenset({"subject"})
        for category in policy.vocabulary.portion_categories:
            yield view, frozenset({f"category.{category}"})
            yield view, frozenset({f"category.{category}", "category.sanitise_requested"})


def verify_policy(policy: Policy, *, exhaustive: bool = True) -> Verification:
    """Ask the derived evaluator and casbin the same questions; report every difference.

    Args:
        policy: a loaded policy (its model is the library's: loading checked it).
        exhaustive: ask every point of the projected fact space (True), or one
            point per row signature (see the module docstring).

    Returns:
        What was checked and every disagreement.
    """
    start = time.perf_counter()
    space = _space(policy)
    compiled = policy.compiled
    engine = policy.engine
    calls = 0
    disagreements: list[Disagreement] = []
    chosen = _one_per_signature(space, policy)
    points: Iterator[frozenset[str]]
    if exhaustive:
        points = (point.facts for point in space.points())
    else:
        points = (space.point(values).facts for values in chosen.values())
    asked = 0
    for facts in points:
        asked += 1
        derived, _binding = compiled.rows.decide(compiled.facts.of(facts))
        casbin = engine.decide_view_uncached(facts)
        calls += min(4, 5 - int(casbin)) if casbin is not View.NONE else 4
        if derived is not casbin:
            disagreements.append(Disagreement("view", facts, None, derived.label, casbin.label))
    content = 0
    for view, facts in _content_questions(policy):
        content += 1
        calls += 1
        derived_shows = compiled.rows.shows(view, compiled.facts.of(facts))
        casbin_shows = engine.shows_uncached(view, facts)
        if derived_shows != casbin_shows:
            disagreements.append(
                Disagreement("content", facts, view, _shown(derived_shows), _shown(casbin_shows))
            )
    return Verification(
        points=asked,
        space=space.size,
        signatures=len(chosen),
        content_points=content,
        casbin_calls=calls,
        exhaustive=exhaustive,
        disagreements=tuple(disagreements),
        seconds=time.perf_counter() - start,
    )


def _shown(shows: bool) -> str:
    return "shown" if shows else "not shown"
