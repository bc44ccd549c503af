"""`dissemination lint`: each kind of finding, caught on a purpose-built broken policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dissemination import DEFAULT_POLICY_DIR
from dissemination.cli import main
from dissemination.tooling import lint_policy
from dissemination.tooling.lint import Finding


def _policy(tmp_path: Path, extra_rows: str = "", profile: tuple[str, str] | None = None) -> Path:
    directory = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    if extra_rows:
        csv = directory / "policy.csv"
        csv.write_text(csv.read_text(encoding="utf-8") + extra_rows, encoding="utf-8")
    if profile is not None:
        path = directory / "profile.yaml"
        text = path.read_text(encoding="utf-8")
        assert profile[0] in text
        path.write_text(text.replace(profile[0], profile[1]), encoding="utf-8")
    return directory


def _line_of(directory: Path, rule: str) -> int:
    lines = (directory / "policy.csv").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if f", {rule}," in line)


def _codes(findings: list[Finding]) -> dict[tuple[str, int | None], str]:
    return {(finding.code, finding.line): finding.message for finding in findings}


def test_default_policy_is_clean() -> None:
    assert lint_policy(DEFAULT_POLICY_DIR) == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("p, x.arity, always, full", "`p` row has 3 fields, expected 5"),
        ("p3, x.type, always, full, -, allow", "unknown row type `p3`"),
        ("p, x.view, always, huge, -, allow", "unknown view `huge`"),
        ("p, x.effect, always, full, -, permit", "unknown effect `permit`"),
        ("p, x.none, always, none, -, allow", "only a deny row can name `none` (as its cap)"),
        ("p, , always, full, -, allow", "row has an empty rule id"),
        ("p, base.full, always, full, -, allow", "rule id `base.full` is already used on line 7"),
    ],
)
def test_malformed_rows(tmp_path: Path, row: str, message: str) -> None:
    directory = _policy(tmp_path, row + "\n")
    line = len((directory / "policy.csv").read_text(encoding="utf-8").splitlines())
    findings = lint_policy(directory)
    assert _codes(findings)[("malformed-row", line)] == message


def test_every_malformed_row_is_reported_not_just_the_first(tmp_path: Path) -> None:
    directory = _policy(tmp_path, "p, x.a, always, full\np, x.b, always, huge, -, allow\n")
    malformed = [finding for finding in lint_policy(directory) if finding.code == "malformed-row"]
    assert len(malformed) == 2


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("vetting.at_least.TS", "`TS` is not a vetting level of the profile"),
        ("employment.temp", "`temp` is not a employment type of the profile"),
        ("reader.tall", "unknown fact `reader.tall`"),
    ],
)
def test_unknown_vocabulary_terms(tmp_path: Path, condition: str, message: str) -> None:
    directory = _policy(tmp_path, f"p, x.unknown, {condition}, pointer, -, deny\n")
    findings = lint_policy(directory)
    line = _line_of(directory, "x.unknown")
    assert message in _codes(findings)[("unknown-fact", line)]


@pytest.mark.parametrize(
    "condition",
    [
        "handling.sanitise & !handling.sanitise",
        "employment.agency & employment.contractor",
        "vetting.at_least.SC & !vetting.at_least.BPSS",
        "vetting.meets_required & !vetting.baseline",
        "!always",
    ],
)
def test_rows_that_can_never_match(tmp_path: Path, condition: str) -> None:
    directory = _policy(tmp_path, f"p, x.never, {condition}, pointer, -, deny\n")
    findings = lint_policy(directory)
    assert ("never-matches", _line_of(directory, "x.never")) in _codes(findings)
    assert any(finding.severity == "error" for finding in findings)


def test_content_row_that_can_never_match(tmp_path: Path) -> None:
    directory = _policy(tmp_path, "p2, x.never, full, subject & category.narrative, allow\n")
    assert ("never-matches", _line_of(directory, "x.never")) in _codes(lint_policy(directory))


def test_shadowed_rows(tmp_path: Path) -> None:
    rows = (
        # whenever this holds, cap.no_agency_staff.agency caps at pointer with the same obligation
        "p, x.shadow, handling.no_agency_staff & employment.agency & handling.sanitise, "
        "pointer, refer_to_owner, deny\n"
        # an allow row granting pointer wherever base.pointer already does
        "p, x.allow, employment.agency, pointer, refer_to_owner, allow\n"
        "p2, x.content, full, category.narrative, allow\n"
    )
    directory = _policy(tmp_path, rows)
    codes = _codes(lint_policy(directory))
    for rule in ("x.shadow", "x.allow", "x.content"):
        assert ("shadowed", _line_of(directory, rule)) in codes, rule
    # the row x.content duplicates is now redundant too, and lint says so
    assert ("shadowed", _line_of(directory, "show.full.narrative")) in codes


def test_a_deny_row_that_lowers_the_view_is_not_shadowed(tmp_path: Path) -> None:
    directory = _policy(tmp_path, "p, x.cap, handling.descriptor, gist, -, deny\n")
    codes = _codes(lint_policy(directory))
    assert ("shadowed", _line_of(directory, "x.cap")) not in codes


def test_vocabulary_inconsistencies(tmp_path: Path) -> None:
    directory = _policy(tmp_path, profile=("TOP SECRET: DV", "TOP SECRET: STRAP"))
    findings = [finding for finding in lint_policy(directory) if finding.code == "vocabulary"]
    assert len(findings) == 1
    assert (
        findings[0].message
        == "classification `TOP SECRET` needs `STRAP`, which is not a vetting level"
    )
    assert findings[0].line is not None
    assert (
        "TOP SECRET: STRAP"
        in (directory / "profile.yaml").read_text().splitlines()[findings[0].line - 1]
    )


def test_rule_words(tmp_path: Path) -> None:
    directory = _policy(
        tmp_path,
        "p, x.nowords, handling.descriptor, gist, -, deny\n",
        profile=(
            "  cap.eyes_only: the item is limited by nationality\n",
            "  cap.eyes_only: the item is limited by nationality\n  cap.gone: old words\n",
        ),
    )
    findings = lint_policy(directory)
    messages = [finding.message for finding in findings if finding.code == "rule-words"]
    assert "`x.nowords` has no words for readers under `rules` in profile.yaml" in messages
    assert "words for `cap.gone`, which is not a rule of policy.csv" in messages
    assert all(finding.severity == "warning" for finding in findings)


def test_cli_lint_exit_codes_and_format(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["lint", str(DEFAULT_POLICY_DIR)])
    assert clean.exit_code == 0
    assert clean.output.strip() == "0 errors, 0 warnings"
    directory = _policy(
        tmp_path, "p, x.never, !always, pointer, -, deny\np, x.view, always, huge, -, allow\n"
    )
    broken = runner.invoke(main, ["lint", str(directory)])
    assert broken.exit_code == 1
    lines = broken.output.strip().splitlines()
    assert lines[-1] == "2 errors, 1 warnings"
    assert f"{directory / 'policy.csv'}:{_line_of(directory, 'x.never')}: error: " in broken.output
    assert "[never-matches]" in broken.output
    as_json = runner.invoke(main, ["lint", str(directory), "--format", "json"])
    assert as_json.exit_code == 1
    assert '"code": "malformed-row"' in as_json.output


def test_cli_lint_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1


def test_lint_reports_an_allow_by_default_effect(tmp_path: Path) -> None:
    target = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    model = target / "model.conf"
    model.write_text(
        model.read_text().replace(
            "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
            "e = !some(where (p.eft == deny))",
        )
    )
    csv = target / "policy.csv"
    csv.write_text(csv.read_text() + "p, x.case, always, Full, -, allow\n")
    findings = lint_policy(target)
    codes = {(finding.code, finding.path) for finding in findings}
    assert ("model-effect", str(model)) in codes
    assert any("view `Full` must be written `full`" in finding.message for finding in findings)


def test_words_of_a_row_with_a_mistyped_fact_name_the_row_and_the_fact(tmp_path: Path) -> None:
    """Issue 13 item 7: the row exists; its `when` names a fact the profile does not give."""
    directory = _policy(tmp_path)
    csv = directory / "policy.csv"
    text = csv.read_text(encoding="utf-8")
    row = "p, cap.agency, employment.agency, sanitised, -, deny"
    assert row in text
    csv.write_text(text.replace(row, row.replace("employment.agency", "employment.agncy")))
    line = _line_of(directory, "cap.agency")
    findings = lint_policy(directory)
    messages = [finding.message for finding in findings if finding.code == "rule-words"]
    assert not any("is not a rule of policy.csv" in message for message in messages), messages
    assert (
        f"words for `cap.agency`, whose row at policy.csv:{line} names "
        "unknown fact `employment.agncy`" in messages
    )
    assert "`agncy` is not a employment type" in _codes(findings)[("unknown-fact", line)]


def test_cli_lint_of_a_directory_that_is_not_a_profile_is_exit_2(tmp_path: Path) -> None:
    """No model.conf, policy.csv or profile.yaml: bad input (2, one line), not a failed lint (1)."""
    (tmp_path / "notes.txt").write_text("not a profile\n")
    result = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1
    assert str(tmp_path) in result.output


def test_a_profile_missing_one_file_is_still_linted(tmp_path: Path) -> None:
    directory = _policy(tmp_path)
    (directory / "model.conf").unlink()
    findings = lint_policy(directory)
    assert any(f.code == "load" and f.path.endswith("model.conf") for f in findings)
