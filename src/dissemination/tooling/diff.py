"""The exhaustive diff of two policies: every class of reader and label whose decision changes.

Both policies are evaluated at every point of the reachable fact space
(`factspace`), projected onto the facts either policy's rows mention. At each
point the *outcome* is compared: the view casbin decides, the content that
view shows (which portion categories and subjects, through the `p2` rows) and
the obligations. Markings are compared too: for every reader class and every
combination of handling on a portion's or subject's marking, whether the
reader fails the marking (`Policy.caps_added`).

casbin is asked once per distinct *row signature* (the set of rows whose
condition holds) rather than once per point: under the standard matcher a
decision depends on the facts only through which rows hold, so points with the
same signature decide the same. The points that differ are grouped by
(old outcome, new outcome) and merged into cubes (sets of values per
dimension), each rendered as one statement with a concrete example reader and
item, decided by both policies to confirm it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from dissemination.decision import Decision, decide
from dissemination.errors import PolicyError
from dissemination.policy import Policy, PolicyRow
from dissemination.tooling.factspace import FactSpace, Witness
from dissemination.tooling.phrases import describe_cube
from dissemination.vocabulary import View

__all__ = [
    "Change",
    "Outcome",
    "PolicyDiff",
    "cover",
    "decided_alike",
    "diff_policies",
    "merge_cubes",
    "outcome_at",
    "row_signatures",
]

Cube = tuple[frozenset[Any], ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a policy decides at one point of the fact space.

    Attributes:
        view: the view.
        content: what the view shows: portion categories (`narrative`,
            `narrative named by sanitise`) and `subjects`.
        obligations: the obligations.
    """

    view: View
    content: frozenset[str] = frozenset()
    obligations: tuple[str, ...] = ()

    def describe(self) -> str:
        """`pointer (refer_to_originator)` or the view's name."""
        if self.obligations and self.view is View.POINTER:
            return f"{self.view.label} ({', '.join(self.obligations)})"
        return self.view.label


def _content(policy: Policy, view: View, sanitise: bool) -> frozenset[str]:
    if view < View.GIST:
        return frozenset()
    shown: set[str] = set()
    for category in policy.vocabulary.portion_categories:
        if policy.engine.shows(view, frozenset({f"category.{category}"})):
            shown.add(category)
        if sanitise and policy.engine.shows(
            view, frozenset({f"category.{category}", "category.sanitise_requested"})
        ):
            shown.add(f"{category} named by sanitise")
    if policy.engine.shows(view, frozenset({"subject"})):
        shown.add("subjects")
    return frozenset(shown)


def outcome_at(policy: Policy, facts: frozenset[str]) -> Outcome:
    """The outcome a policy decides for a set of facts (asking casbin).

    Args:
        policy: the policy.
        facts: a point's facts.

    Returns:
        The view, the content it shows and the obligations, as `decide` gives them.
    """
    view = policy.engine.decide_view(facts)
    if view is View.NONE:
        return Outcome(view)
    binding = policy.binding_rows(facts, view)
    obligations = tuple(sorted({row.obligation for row in binding if row.obligation}))
    if view is View.POINTER and not obligations:
        obligations = ("refer_to_owner",)
    return Outcome(view, _content(policy, view, "handling.sanitise" in facts), obligations)


@dataclass(frozen=True, slots=True)
class Change:
    """One class of readers and items whose outcome changes the same way.

    Attributes:
        kind: `decision` (the view, content or obligations of the item) or
            `marking` (whether a reader fails a portion's or subject's marking).
        statement: the class and the change, in words.
        old: the old outcome, in words.
        new: the new outcome, in words.
        cube: the class: for each dimension, the values it covers.
        points: how many points of the (projected) space it covers.
        example: a reader and item in the class.
        confirmed: whether deciding the example by both policies shows the
            change (None when the example is reachable only under other settings).
    """

    kind: str
    statement: str
    old: str
    new: str
    cube: dict[str, list[Any]]
    points: int
    example: Witness | None = None
    confirmed: bool | None = None


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    """The result of `diff_policies`.

    Attributes:
        old: the old policy.
        new: the new policy.
        space_size: points of the full reachable fact space of the vocabulary.
        points: points enumerated (the space projected onto the facts the
            rows of either policy mention).
        casbin_calls: how many times casbin was asked for a view.
        marking_points: reader classes x marking handling combinations compared.
        changes: the changes, decisions first.
        profile_changes: changes to the vocabulary, settings or rule words.
        seconds: how long the diff took.
    """

    old: Policy
    new: Policy
    space_size: int
    points: int
    casbin_calls: int
    marking_points: int
    changes: tuple[Change, ...] = field(default=())
    profile_changes: tuple[str, ...] = field(default=())
    seconds: float = 0.0

    @property
    def identical(self) -> bool:
        """Whether nothing changes."""
        return not self.changes and not self.profile_changes


def _relevant(policies: Iterable[Policy]) -> frozenset[str]:
    return frozenset(
        fact
        for policy in policies
        for row in policy.view_rows
        for fact in row.needed | row.forbidden
    )


class _Condition(Protocol):
    @property
    def needed(self) -> frozenset[str]: ...
    @property
    def forbidden(self) -> frozenset[str]: ...


def _masks(space: FactSpace, rows: Sequence[_Condition]) -> tuple[int, list[list[int]]]:
    """For each dimension value, the bitmask of rows its facts do not rule out.

    Also `base`: the rows whose needed facts some dimension (or `always`) gives.
    A row constrains only the dimensions that own a fact of its condition, so
    each dimension value is checked against those rows alone (linear in the
    rows, as lint of a large policy needs).
    """
    owner: dict[str, int] = {}
    for number, dimension in enumerate(space.dimensions):
        for _value, facts in dimension.values:
            for fact in facts:
                owner[fact] = number
    touching: list[list[tuple[int, frozenset[str], frozenset[str]]]] = [
        [] for _ in space.dimensions
    ]
    based: list[int] = []
    for index, row in enumerate(rows):
        if "always" in row.forbidden or any(
            fact != "always" and fact not in owner for fact in row.needed
        ):
            continue
        based.append(index)
        split: dict[int, tuple[list[str], list[str]]] = {}
        for fact in row.needed:
            if fact in owner:
                split.setdefault(owner[fact], ([], []))[0].append(fact)
        for fact in row.forbidden:
            if fact in owner:
                split.setdefault(owner[fact], ([], []))[1].append(fact)
        for number, (needed, forbidden) in split.items():
            touching[number].append((index, frozenset(needed), frozenset(forbidden)))
    size = len(rows)
    everyone = (1 << size) - 1
    masks: list[list[int]] = []
    for dimension, constrained in zip(space.dimensions, touching, strict=True):
        per_value: list[int] = []
        for _value, facts in dimension.values:
            excluded = [
                index
                for index, needed, forbidden in constrained
                if not (needed <= facts and forbidden.isdisjoint(facts))
            ]
            per_value.append(everyone & ~_bits(excluded, size))
        masks.append(per_value)
    return _bits(based, size), masks


def _bits(indices: list[int], size: int) -> int:
    """The int with bit `i` set for each index (built in one pass, not one `|` per bit)."""
    bitmap = bytearray((size + 7) // 8)
    for index in indices:
        bitmap[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(bitmap, "little")


def row_signatures(space: FactSpace, rows: Sequence[PolicyRow]) -> set[int]:
    """Every distinct set of rows that hold together at some point of the space.

    Args:
        space: the fact space.
        rows: the rows.

    Returns:
        The signatures, as bitmasks (bit `i` for `rows[i]`).
    """
    base, masks = _masks(space, rows)
    signatures = {base}
    for per_value in masks:
        signatures = {mask & value for mask in signatures for value in per_value}
    return signatures


def merge_cubes(points: Iterable[tuple[Any, ...]]) -> list[Cube]:
    """Merge points into cubes covering exactly the same set.

    Two cubes that agree on every dimension but one merge into one with the
    union of that dimension's values, until nothing merges.

    Args:
        points: the points, as tuples of dimension values.

    Returns:
        The cubes, sorted for a stable report.
    """
    cubes: set[Cube] = {tuple(frozenset({value}) for value in point) for point in points}
    if not cubes:
        return []
    width = len(next(iter(cubes)))
    changed = True
    while changed:
        changed = False
        for dimension in range(width):
            groups: dict[Cube, set[Any]] = {}
            for cube in cubes:
                rest = (*cube[:dimension], frozenset(), *cube[dimension + 1 :])
                groups.setdefault(rest, set()).update(cube[dimension])
            merged = {
                (*rest[:dimension], frozenset(values), *rest[dimension + 1 :])
                for rest, values in groups.items()
            }
            if len(merged) < len(cubes):
                changed = True
            cubes = merged
    return sorted(cubes, key=lambda cube: [sorted(map(repr, values)) for values in cube])


def cover(points: Iterable[tuple[Any, ...]], domains: Sequence[Sequence[Any]]) -> list[Cube]:
    """A small set of cubes whose union is exactly `points`, each as large as it can be.

    The exact partition of `merge_cubes` is expanded greedily: each cube takes
    every value of a dimension whenever all the points it then covers are in
    the set; cubes inside another are dropped. Cubes may overlap, so each
    reads as one true statement and together they say everything.

    Args:
        points: the points, as tuples of dimension values.
        domains: for each dimension, every value it can take.

    Returns:
        The cubes, largest first.
    """
    members = set(points)
    expanded: list[Cube] = []
    for cube in sorted(merge_cubes(members), key=_cube_size, reverse=True):
        grown = list(cube)
        for dimension, domain in enumerate(domains):
            if len(grown[dimension]) == len(domain):
                continue
            trial = [*grown[:dimension], frozenset(domain), *grown[dimension + 1 :]]
            if all(point in members for point in itertools.product(*trial)):
                grown = trial
        expanded.append(tuple(grown))
    kept: list[Cube] = []
    # Largest first; cubes of one size in a fixed order (set order varies with the hash seed).
    ordered = sorted(set(expanded), key=lambda cube: [sorted(map(repr, values)) for values in cube])
    for cube in sorted(ordered, key=_cube_size, reverse=True):
        if not any(all(a <= b for a, b in zip(cube, other, strict=True)) for other in kept):
            kept.append(cube)
    return kept


def _cube_size(cube: Cube) -> int:
    size = 1
    for values in cube:
        size *= len(values)
    return size


def _profile_changes(old: Policy, new: Policy) -> list[str]:
    changes: list[str] = []
    old_vocabulary = old.vocabulary.model_dump()
    for key, value in new.vocabulary.model_dump().items():
        if old_vocabulary.get(key) != value:
            changes.append(f"vocabulary `{key}`: {old_vocabulary.get(key)} -> {value}")
    old_settings = old.settings.model_dump()
    for key, value in new.settings.model_dump().items():
        if old_settings.get(key) != value:
            changes.append(f"setting `{key}`: {old_settings.get(key)} -> {value}")
    for rule in sorted(set(old.rule_words) | set(new.rule_words)):
        before, after = old.rule_words.get(rule), new.rule_words.get(rule)
        if before != after:
            changes.append(f"words of `{rule}`: {before!r} -> {after!r}")
    return changes


def _content_change(old: Outcome, new: Outcome) -> str:
    parts = [f"+{name}" for name in sorted(new.content - old.content)]
    parts += [f"-{name}" for name in sorted(old.content - new.content)]
    return f"shows {' '.join(parts)}" if parts else ""


class _Evaluator:
    """One policy's outcomes over a space, asking casbin as little as is exact.

    A point's *signature* is the set of view rows whose condition holds. Under
    the profile's model (allow when some allow row grants the view and no deny
    row caps below it) the view depends on the signature only through the best
    view the matching allow rows grant and the lowest cap of the matching deny
    rows, so casbin is asked once per such pair. The obligations come from the
    rows that fixed the view, exactly as `decide` takes them. With `verify`,
    casbin is also asked at one point of every distinct signature, and any
    disagreement (a model that is not the standard one) is an error.
    """

    def __init__(self, policy: Policy, space: FactSpace, *, verify: bool) -> None:
        self.policy = policy
        self.space = space
        self.verify = verify
        self.rows = policy.view_rows
        self.base, self.masks = _masks(space, self.rows)
        self.outcomes: dict[tuple[int, bool], Outcome] = {}
        self.views: dict[tuple[View | None, View | None], View] = {}
        self.casbin_calls = 0

    def outcome(self, mask: int, sanitise: bool, values: tuple[Any, ...]) -> Outcome:
        cached = self.outcomes.get((mask, sanitise))
        if cached is not None:
            return cached
        matching = [row for bit, row in enumerate(self.rows) if mask >> bit & 1]
        grants = [row.view for row in matching if row.effect == "allow"]
        caps = [row.view for row in matching if row.effect == "deny"]
        summary = (max(grants, default=None), min(caps, default=None))
        view = self.views.get(summary)
        if view is None or self.verify:
            asked = self.policy.engine.decide_view_uncached(self.space.point(values).facts)
            self.casbin_calls += 1
            if view is not None and asked is not view:
                raise PolicyError(
                    "the model does not decide by matching rows alone; diff cannot be exact",
                    path=str(self.policy.directory / "model.conf"),
                )
            view = asked
            self.views[summary] = view
        outcome = Outcome(view)
        if view is not View.NONE:
            binding = [row for row in matching if row.effect == "deny" and row.view == view]
            if not binding:
                binding = [row for row in matching if row.effect == "allow" and row.view == view]
            obligations = tuple(sorted({row.obligation for row in binding if row.obligation}))
            if view is View.POINTER and not obligations:
                obligations = ("refer_to_owner",)
            outcome = Outcome(view, _content(self.policy, view, sanitise), obligations)
        self.outcomes[mask, sanitise] = outcome
        return outcome


def _decision_changes(
    old: Policy, new: Policy, space: FactSpace, *, verify: bool
) -> tuple[list[Change], int, int]:
    evaluators = (_Evaluator(old, space, verify=verify), _Evaluator(new, space, verify=verify))
    first, second = evaluators
    sanitise_at = space.index.get("handling.sanitise")
    differing: dict[tuple[Outcome, Outcome], list[tuple[Any, ...]]] = {}
    dimensions = space.dimensions
    count = 0

    def walk(depth: int, mask_old: int, mask_new: int, chosen: list[Any]) -> None:
        nonlocal count
        if depth == len(dimensions):
            count += 1
            values = tuple(chosen)
            sanitise = sanitise_at is not None and values[sanitise_at] is True
            before = first.outcome(mask_old, sanitise, values)
            after = second.outcome(mask_new, sanitise, values)
            if before != after:
                if before.view != after.view:
                    # The new view implies its content: group by views and obligations.
                    before = replace(before, content=frozenset())
                    after = replace(after, content=frozenset())
                differing.setdefault((before, after), []).append(values)
            return
        for index, (value, _facts) in enumerate(dimensions[depth].values):
            chosen.append(value)
            walk(
                depth + 1,
                mask_old & first.masks[depth][index],
                mask_new & second.masks[depth][index],
                chosen,
            )
            chosen.pop()

    walk(0, first.base, second.base, [])
    changes: list[Change] = []
    for (before, after), points in sorted(
        differing.items(), key=lambda entry: (-entry[0][0].view, -entry[0][1].view)
    ):
        domains = [[value for value, _facts in dim.values] for dim in space.dimensions]
        for cube in cover(points, domains):
            changes.append(_decision_change(old, new, space, cube, before, after))
    return changes, count, first.casbin_calls + second.casbin_calls


def _decision_change(  # noqa: PLR0917 (private; called once, the six values belong together)
    old: Policy, new: Policy, space: FactSpace, cube: Cube, before: Outcome, after: Outcome
) -> Change:
    who = describe_cube(space, cube)
    change = f"{before.describe()} -> {after.describe()}"
    if before.view == after.view and before.content != after.content:
        # A change of view implies its content; say the content only when the view stays.
        change = f"{before.view.label}: {_content_change(before, after)}"
    representative = tuple(sorted(values, key=repr)[0] for values in cube)
    delta = before.content ^ after.content
    suffix = " named by sanitise"
    named = sorted(name.removesuffix(suffix) for name in delta if name.endswith(suffix))
    # A witness `sanitise` names the categories whose change depends on it, and
    # otherwise one whose showing does not change (so it cannot hide the change).
    spare = [
        category
        for category in space.vocabulary.portion_categories
        if category not in delta and category != "tearline"
    ]
    sanitised = tuple(named) or tuple(spare[:1]) or ("assessment",)
    example = space.witness(space.point(representative), sanitise=sanitised)
    confirmed = _confirm(old, new, example) if example.reachable else None
    return Change(
        kind="decision",
        statement=f"{who}: {change}",
        old=before.describe(),
        new=after.describe(),
        cube={
            dim.name: sorted(values, key=repr)
            for dim, values in zip(space.dimensions, cube, strict=True)
        },
        points=_cube_size(cube),
        example=example,
        confirmed=confirmed,
    )


def _confirm(old: Policy, new: Policy, example: Witness) -> bool:
    decisions = [
        decide(
            example.reader,
            example.item,
            now=example.now,
            policy=policy,
            label_check=example.label_check,
        )
        for policy in (old, new)
    ]
    return not decided_alike(*decisions)


def decided_alike(first: Decision, second: Decision) -> bool:
    """Whether two decisions give the reader the same: view, portions, subjects, obligations.

    Args:
        first: one decision.
        second: the other.

    Returns:
        True when nothing the reader gets differs (reasons and facts may).
    """
    return (first.view, first.portions, first.subjects, first.obligations) == (
        second.view,
        second.portions,
        second.subjects,
        second.obligations,
    )


def _marking_changes(
    old: Policy, new: Policy, relevant: frozenset[str]
) -> tuple[list[Change], int]:
    """Readers who fail (or pass) a marking's handling under one policy and not the other."""
    # A marking is judged as if the reader met the required vetting
    # (`decision._Judge`), so the vetting dimension is the rank alone.
    space = FactSpace(new.vocabulary, relevant=relevant - {"vetting.meets_required"})
    keep = {"employment", "reader.outside_originator", "reader.consented"}
    handling = [dim for dim in space.dimensions if dim.name.startswith("handling.")]
    reader_dims = [space.dimensions[space.index["vetting"]]]
    reader_dims += [dim for dim in space.dimensions if dim.name in keep]
    dimensions = reader_dims + handling
    differing: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    count = 0
    for combination in itertools.product(*(dim.values for dim in dimensions)):
        count += 1
        base: set[str] = {"always", "vetting.meets_required"}
        extra: set[str] = set()
        for dim, (_value, facts) in zip(dimensions, combination, strict=True):
            (extra if dim.name.startswith("handling.") else base).update(facts)
        if not extra:
            continue
        frozen_base, frozen_extra = frozenset(base), frozenset(extra)
        before = old.caps_added(frozen_base, frozen_extra)
        after = new.caps_added(frozen_base, frozen_extra)
        if before != after:
            key = ("withheld" if before else "shown", "withheld" if after else "shown")
            differing.setdefault(key, []).append(tuple(value for value, _facts in combination))
    sub = _SubSpace(space, dimensions)
    changes = [
        Change(
            kind="marking",
            statement=f"{describe_cube(sub, cube, marking=True)}: {before} -> {after}",
            old=before,
            new=after,
            cube={
                dim.name: sorted(values, key=repr)
                for dim, values in zip(dimensions, cube, strict=True)
            },
            points=_cube_size(cube),
        )
        for (before, after), points in sorted(differing.items())
        for cube in cover(points, [[value for value, _f in dim.values] for dim in dimensions])
    ]
    return changes, count


class _SubSpace:
    """Some dimensions of a space, for describing marking cubes."""

    def __init__(self, space: FactSpace, dimensions: Sequence[Any]) -> None:
        self.vocabulary = space.vocabulary
        self.dimensions = tuple(dimensions)


def diff_policies(
    old: Policy,
    new: Policy,
    *,
    verify: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PolicyDiff:
    """Compare two policies at every point of the reachable fact space.

    Args:
        old: the policy deployed now.
        new: the proposed policy.
        verify: also ask casbin at one point of every distinct row signature
            and check it agrees (slower; proves the model is the standard one).
        progress: called with a line of progress, if given.

    Returns:
        Every class of reader and item whose decision changes, with examples.

    Raises:
        PolicyError: with `verify`, a model whose decisions depend on more
            than which rows match.
    """
    started = time.perf_counter()
    relevant = _relevant((old, new))
    space = FactSpace(new.vocabulary, relevant=relevant, settings=new.settings)
    full = FactSpace(new.vocabulary)
    if progress is not None:
        progress(f"comparing {space.size} points ({full.size} in the full fact space)")
    changes, points, casbin_calls = _decision_changes(old, new, space, verify=verify)
    marking, marking_points = _marking_changes(old, new, relevant)
    return PolicyDiff(
        old=old,
        new=new,
        space_size=full.size,
        points=points,
        casbin_calls=casbin_calls,
        marking_points=marking_points,
        changes=tuple(changes + marking),
        profile_changes=tuple(_profile_changes(old, new)),
        seconds=time.perf_counter() - started,
    )
