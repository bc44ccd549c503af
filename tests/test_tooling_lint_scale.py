"""Lint at scale judges as the plain definition does, and says what it could not judge.

Lint judges shadowing per row signature from the rows at the grant, the cap and
the binding rows only (`lint._RowMasks.essential`). For generated policies
within the vocabulary, the rows it calls shadowed are exactly the rows whose
removal changes no signature's view or obligations, found by removing each row
and recomputing `compiled.view_of` everywhere.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dissemination.compiled import view_of
from dissemination.policy import DEFAULT_POLICY_DIR, Policy, PolicyRow
from dissemination.tooling import lint
from dissemination.tooling.diff import row_signatures
from dissemination.tooling.factspace import FactSpace
from dissemination.vocabulary import View
from tests.test_derived_rows import policy_files


def _outcome(rows: list[PolicyRow]) -> tuple[View, frozenset[str]]:
    view, binding = view_of(rows)
    obligations = frozenset(row.obligation or "" for row in binding)
    return view, obligations if view is not View.NONE else frozenset()


def _shadowed_by_definition(policy: Policy) -> set[int]:
    rows = list(policy.view_rows)
    relevant = frozenset(fact for row in rows for fact in row.needed | row.forbidden)
    space = FactSpace(policy.vocabulary, relevant=relevant)
    signatures = row_signatures(space, rows)
    shadowed = set()
    for index, row in enumerate(rows):
        holding = [signature for signature in signatures if signature >> index & 1]
        if not holding or row.needed & row.forbidden:
            continue  # never matches: another finding
        if all(
            _outcome([r for k, r in enumerate(rows) if signature >> k & 1])
            == _outcome([r for k, r in enumerate(rows) if signature >> k & 1 and k != index])
            for signature in holding
        ):
            shadowed.add(row.line)
    return shadowed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_files())
def test_shadowed_rows_are_exactly_those_the_definition_finds(text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "generated"
        shutil.copytree(DEFAULT_POLICY_DIR, directory)
        (directory / "policy.csv").write_text(text, encoding="utf-8")
        policy = Policy(directory)
        found = {
            finding.line
            for finding in lint.lint_policy(directory)
            if finding.code == "shadowed" and finding.path.endswith("policy.csv")
        }
    expected = _shadowed_by_definition(policy)
    content_lines = {row.line for row in policy.content_rows}
    assert found - content_lines == expected


def test_beyond_the_budget_lint_says_what_it_did_not_judge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lint, "SIGNATURE_BUDGET", 10)
    findings = lint.lint_policy(DEFAULT_POLICY_DIR)
    assert [finding.code for finding in findings] == ["not-analysed"]
    rows = len(Policy(DEFAULT_POLICY_DIR).view_rows)
    assert f"shadowing of {rows} view rows was not analysed" in findings[0].message
