"""The fact space and the exhaustive diff: exact, complete, witnessed by real readers and items."""

from __future__ import annotations

import functools
import itertools
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissemination import (
    DEFAULT_POLICY_DIR,
    Item,
    Policy,
    Principal,
    decide,
    default_policy,
    load_policy,
)
from dissemination.cli import main
from dissemination.tooling import diff_policies
from dissemination.tooling.diff import PolicyDiff, outcome_at
from dissemination.tooling.factspace import FactSpace
from tests.conftest import EXAMPLES
from tests.strategies import NOW, items, principals

POLICY_CSV = (DEFAULT_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
ROW_LINES = {
    line.split(",")[1].strip(): line
    for line in POLICY_CSV.splitlines()
    if line.startswith(("p,", "p2,"))
}


def _relevant(policy: Policy) -> frozenset[str]:
    return frozenset(fact for row in policy.view_rows for fact in row.needed | row.forbidden)


# -- the fact space -------------------------------------------------------------------


def test_full_space_size_is_the_product_of_its_dimensions() -> None:
    space = FactSpace(default_policy().vocabulary)
    # vetting: none, five levels x meets or not, eDV always meets = 12; five employment
    # types and one the profile does not list (`reader.invalid`); three reader facts,
    # ten handling facts, three label facts on or off.
    assert space.size == 12 * 6 * 2**16 == 4_718_592


def test_every_projected_point_has_a_witness_deriving_exactly_its_facts() -> None:
    policy = default_policy()
    relevant = _relevant(policy)
    space = FactSpace(policy.vocabulary, relevant=relevant, settings=policy.settings)
    checked = 0
    for number, point in enumerate(space.points()):
        if number % 23:
            continue
        witness = space.witness(point)
        decision = decide(
            witness.reader,
            witness.item,
            now=witness.now,
            policy=policy,
            label_check=witness.label_check,
        )
        if not witness.reachable:
            assert point.facts & {
                "label.integrity_failed",
                "label.unknown_handling",
                "reader.invalid",
            }
            continue
        assert (decision.facts & relevant) | {"always"} == point.facts
        checked += 1
    assert checked > 1500


def test_full_space_witnesses_on_a_sample() -> None:
    policy = default_policy()
    space = FactSpace(policy.vocabulary, settings=policy.settings)
    generator = random.Random(7)  # noqa: S311 (a reproducible sample, not a secret)
    for _ in range(1500):
        values = tuple(generator.choice(dim.values)[0] for dim in space.dimensions)
        point = space.point(values)
        witness = space.witness(point)
        if not witness.reachable:
            continue
        decision = decide(
            witness.reader,
            witness.item,
            now=witness.now,
            policy=policy,
            label_check=witness.label_check,
        )
        assert decision.facts == point.facts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reader=principals(), item=items(), now=st.just(NOW))
def test_every_real_decision_lands_on_a_point_of_the_space(
    reader: Principal, item: Item, now: object
) -> None:
    policy = default_policy()
    space = FactSpace(policy.vocabulary)
    decision = decide(reader, item, now=NOW, policy=policy)
    values = []
    for dimension in space.dimensions:
        matches = [
            value
            for value, facts in dimension.values
            if facts <= decision.facts
            and (
                dimension.name in {"vetting", "employment"}
                or bool(facts) == (dimension.name in decision.facts)
            )
        ]
        # exactly one value of the dimension fits the decision's facts
        best = max(matches, key=lambda v: len(dict(dimension.values)[v]))
        values.append(best)
    assert space.point(tuple(values)).facts == decision.facts


# -- policies with one row edited ---------------------------------------------------------


def _edited(
    tmp: Path, replace: dict[str, str | None], words: dict[str, str] | None = None
) -> Policy:
    directory = tmp / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    lines = []
    for line in POLICY_CSV.splitlines():
        rule = line.split(",")[1].strip() if line.startswith(("p,", "p2,")) else None
        if rule in replace:
            if replace[rule] is not None:
                lines.append(str(replace[rule]))
            continue
        lines.append(line)
    (directory / "policy.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_policy(directory)


@functools.cache
def _deleted_diff(rule: str, tmp: str) -> tuple[Policy, PolicyDiff]:
    new = _edited(Path(tmp) / rule, {rule: None})
    return new, diff_policies(default_policy(), new)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("edits"))


def test_identical_directories_give_no_change(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "copy")
    result = diff_policies(default_policy(), load_policy(tmp_path / "copy"))
    assert result.identical
    assert result.changes == ()
    assert result.points == 196_608
    assert result.space_size == 4_718_592


@functools.cache
def _default_points() -> tuple[FactSpace, tuple[frozenset[str], ...]]:
    """The default policy's projected space and every point's facts, enumerated once."""
    policy = default_policy()
    space = FactSpace(policy.vocabulary, relevant=_relevant(policy))
    return space, tuple(point.facts for point in space.points())


def _cube_points(space: FactSpace, cube: dict[str, list[object]]) -> list[frozenset[str]]:
    ordered = [cube[dimension.name] for dimension in space.dimensions]
    return [space.point(tuple(values)).facts for values in itertools.product(*ordered)]


@pytest.mark.parametrize("rule", [row.rule for row in default_policy().view_rows])
def test_deleting_a_view_row_changes_exactly_where_it_decided(rule: str, scratch: str) -> None:
    old = default_policy()
    new, result = _deleted_diff(rule, scratch)
    row = next(r for r in old.view_rows if r.rule == rule)
    decisions = [change for change in result.changes if change.kind == "decision"]
    assert decisions, f"deleting `{rule}` must change some decision"
    space, every_point = _default_points()
    changed: set[frozenset[str]] = set()
    generator = random.Random(rule)  # noqa: S311 (a reproducible sample, not a secret)
    for change in decisions:
        assert change.confirmed in (True, None)
        points = _cube_points(space, change.cube)
        changed.update(points)
        for facts in generator.sample(points, min(40, len(points))):
            # a deleted row changes only points where it held, and each point
            # of a statement really changes
            assert row.matches(facts)
            assert outcome_at(old, facts) != outcome_at(new, facts)
    # complete: on a sample of the points where the row holds, a point changes
    # exactly when some statement covers it
    candidates = [facts for facts in every_point if row.matches(facts)]
    for facts in generator.sample(candidates, min(150, len(candidates))):
        assert (outcome_at(old, facts) != outcome_at(new, facts)) == (facts in changed)


@pytest.mark.parametrize(
    "rule", ["show.full.source", "hide.sanitised.requested", "show.gist.subjects"]
)
def test_deleting_a_content_row_changes_what_one_view_shows(rule: str, scratch: str) -> None:
    _new, result = _deleted_diff(rule, scratch)
    view = next(row.view for row in default_policy().content_rows if row.rule == rule)
    assert result.changes
    for change in result.changes:
        assert change.old.split()[0] == change.new.split()[0] == view.label
        assert change.confirmed in (True, None)


def test_the_worked_example_diff() -> None:
    result = diff_policies(default_policy(), load_policy(EXAMPLES / "policy-change" / "policy"))
    decisions = [change for change in result.changes if change.kind == "decision"]
    assert decisions
    for change in decisions:
        assert change.statement.startswith("agency staff with SC vetting or above")
        assert change.statement.endswith(": sanitised -> full")
        assert change.confirmed is True
    assert any("without handling instructions" in change.statement for change in decisions)
    assert result.profile_changes == (
        "words of `cap.agency`: 'agency staff see at most a sanitised view' -> "
        "'agency staff without SC vetting see at most a sanitised view'",
    )


def test_a_marking_change_is_reported(tmp_path: Path) -> None:
    # Letting agency staff past `no_agency_staff` also changes markings that carry it.
    new = _edited(tmp_path, {"cap.no_agency_staff.agency": None})
    markings = [c for c in diff_policies(default_policy(), new).changes if c.kind == "marking"]
    assert markings
    assert all(change.old == "withheld" and change.new == "shown" for change in markings)
    assert all("`no_agency_staff`" in change.statement for change in markings)


def test_verify_asks_casbin_at_every_signature(tmp_path: Path) -> None:
    # A small profile (four view rows) keeps the signatures few.
    keep = {"base.full", "base.gist", "base.pointer", "cap.agency", "cap.embargo"}
    drop: dict[str, str | None] = {
        rule: None
        for rule in ROW_LINES
        if rule not in keep and not rule.startswith(("show", "hide"))
    }
    old = _edited(tmp_path / "old", drop)
    new = _edited(tmp_path / "new", {**drop, "cap.embargo": None})
    fast = diff_policies(old, new)
    checked = diff_policies(old, new, verify=True)
    assert checked.casbin_calls > fast.casbin_calls
    assert [c.statement for c in checked.changes] == [c.statement for c in fast.changes]


# -- the property: an empty diff exactly when the policies decide alike --------------------

EDITS = [
    "identity",  # names no row, so deleting it leaves the policy as it was
    "cap.agency",
    "cap.sanitise",
    "cap.embargo",
    "base.gist",
    "cap.need_to_know",
    "show.sanitised.assessment",
]


def _same(first: object, second: object) -> bool:
    keys = ("view", "portions", "subjects", "obligations")
    return all(getattr(first, key) == getattr(second, key) for key in keys)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit=st.sampled_from(EDITS), reader=principals(), item=items())
def test_diff_is_empty_exactly_when_decisions_agree(
    edit: str, reader: Principal, item: Item, scratch: str
) -> None:
    # the deletions the row tests above diffed are reused, not diffed again
    new, result = _deleted_diff(edit, scratch)
    old = default_policy()
    before = decide(reader, item, now=NOW, policy=old)
    after = decide(reader, item, now=NOW, policy=new)
    if result.identical:
        assert _same(before, after)
    else:
        # every change is witnessed by a real reader and item deciding differently
        assert all(change.confirmed is not False for change in result.changes)
        if not _same(before, after):
            assert result.changes


# -- the command ------------------------------------------------------------------------------


def test_cli_diff_identical_exits_0_and_changed_exits_1(tmp_path: Path) -> None:
    runner = CliRunner()
    shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "same")
    same = runner.invoke(main, ["diff", str(DEFAULT_POLICY_DIR), str(tmp_path / "same")])
    assert same.exit_code == 0, same.output
    assert "0 decision changes" in same.output
    changed = runner.invoke(
        main,
        [
            "diff",
            str(DEFAULT_POLICY_DIR),
            str(EXAMPLES / "policy-change" / "policy"),
            "--corpus",
            str(EXAMPLES / "humber" / "items"),
            "--readers",
            str(EXAMPLES / "policy-change" / "readers"),
            "--now",
            "2026-11-27T10:00:00Z",
        ],
    )
    assert changed.exit_code == 1
    assert "sanitised -> full" in changed.output
    assert "e.g. reader originator-org/agency/SC vetting" in changed.output
    assert "corpus: agency-0107 / HUM-2026-000127: sanitised [p1, p2] -> full [p1, p2]" in (
        changed.output
    )
    as_json = runner.invoke(
        main,
        [
            "diff",
            str(DEFAULT_POLICY_DIR),
            str(EXAMPLES / "policy-change" / "policy"),
            "--format",
            "json",
        ],
    )
    assert as_json.exit_code == 1
    assert '"statement": "agency staff with SC vetting or above' in as_json.output


def test_cli_diff_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["diff", str(DEFAULT_POLICY_DIR), str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1
