"""The derived evaluator decides as casbin does, on the default profile and on generated rows.

`decide` answers from the rows read as bit masks (`compiled.RowTable`, one
meaning of a row: `compiled.view_of`, `compiled.shows_of`); casbin, running the
library's model over the same files, is the authority. Hypothesis writes random
`policy.csv` files within the default vocabulary (view rows and content rows,
allow and deny, every view, negated facts, obligations); for each, every point
of the fact space projected onto the facts its rows name, and every content
question, gets the same answer from both (`tooling.verify.verify_policy`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissemination.cli import main
from dissemination.policy import DEFAULT_POLICY_DIR, Policy, PolicyRow
from dissemination.tooling.verify import verify_policy
from dissemination.vocabulary import View

VIEW_FACTS = (
    "always",
    "vetting.meets_required",
    "vetting.baseline",
    "vetting.at_least.SC",
    "employment.agency",
    "employment.contractor",
    "tearline.passed",
    "reader.outside_originator",
    "handling.no_agency_staff",
    "label.invalid",
)
CONTENT_FACTS = ("subject", "category.tearline", "category.source", "category.sanitise_requested")
OBLIGATIONS = ("-", "refer_to_owner", "refer_to_originator")


@st.composite
def conditions(draw: st.DrawFn, pool: tuple[str, ...]) -> str:
    facts = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    return " & ".join(f"!{fact}" if draw(st.booleans()) else fact for fact in facts)


@st.composite
def view_rows(draw: st.DrawFn, number: int) -> str:
    effect = draw(st.sampled_from(["allow", "deny"]))
    lowest = View.POINTER if effect == "allow" else View.NONE
    view = draw(st.sampled_from([view for view in View if view >= lowest]))
    obligation = draw(st.sampled_from(OBLIGATIONS))
    return f"p, g.{number}, {draw(conditions(VIEW_FACTS))}, {view.label}, {obligation}, {effect}"


@st.composite
def content_rows(draw: st.DrawFn, number: int) -> str:
    effect = draw(st.sampled_from(["allow", "deny"]))
    view = draw(st.sampled_from([view for view in View if view > View.NONE]))
    return f"p2, c.{number}, {view.label}, {draw(conditions(CONTENT_FACTS))}, {effect}"


@st.composite
def policy_files(draw: st.DrawFn) -> str:
    rows = [draw(view_rows(number)) for number in range(draw(st.integers(1, 6)))]
    rows += [draw(content_rows(number)) for number in range(draw(st.integers(0, 5)))]
    return "\n".join(draw(st.permutations(rows))) + "\n"


def _load(text: str, directory: Path) -> Policy:
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    (directory / "policy.csv").write_text(text, encoding="utf-8")
    return Policy(directory)


EXAMPLES = 400 if os.environ.get("DISSEMINATION_EXHAUSTIVE") == "1" else 30


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_files())
def test_generated_rows_decide_as_casbin_at_every_point(text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        policy = _load(text, Path(scratch) / "generated")
        result = verify_policy(policy)
    assert result.exhaustive
    assert result.points == result.space
    assert result.disagreements == (), [item.describe() for item in result.disagreements]


def test_a_disagreement_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: an evaluator that forgets deny rows is caught."""
    from dissemination import compiled

    text = "p, g.0, always, full, -, allow\np, g.1, employment.agency, gist, -, deny\n"
    policy = _load(text, tmp_path / "small")
    original = compiled.view_of

    def allow_only(matching: Iterable[PolicyRow]) -> tuple[View, tuple[PolicyRow, ...]]:
        return original(row for row in matching if row.effect == "allow")

    monkeypatch.setattr(compiled, "view_of", allow_only)
    result = verify_policy(policy)
    assert not result.agrees
    assert {item.kind for item in result.disagreements} == {"view"}
    assert all("employment.agency" in item.facts for item in result.disagreements)


def test_lint_verify_on_a_users_profile(tmp_path: Path) -> None:
    text = "p, g.0, always, pointer, -, allow\np, g.1, employment.agency, none, -, deny\n"
    policy = _load(text, tmp_path / "mine")
    result = CliRunner().invoke(main, ["lint", "--verify", str(policy.directory)])
    assert result.exit_code == 0, result.output
    assert "verify: the evaluator and casbin agree" in result.output


def _as_row(text: str) -> str:
    """Most generated lines start as a row would, so they reach the tokenizer."""
    return ("p, " if len(text) % 3 == 0 else "p2," if len(text) % 3 == 1 else "") + text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", blacklist_characters="[]()\n"),
            max_size=40,
        ).map(_as_row),
        max_size=6,
    )
)
def test_the_adapter_reads_rows_as_casbins_line_reader(lines: list[str]) -> None:
    """Without brackets, the text adapter's comma split gives casbin's own tokens."""
    import casbin

    from dissemination.engine import MODEL_TEXT, _TextAdapter

    text = "\n".join(lines)
    ours = casbin.Enforcer.new_model(text=MODEL_TEXT)
    _TextAdapter(text).load_policy(ours)
    theirs = casbin.Enforcer.new_model(text=MODEL_TEXT)
    for line in text.split("\n"):
        casbin.persist.load_policy_line(line.strip(), theirs)
    for key in ("p", "p2"):
        assert ours.model["p"][key].policy == theirs.model["p"][key].policy
