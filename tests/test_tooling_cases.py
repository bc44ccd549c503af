"""Policy test cases: loading, the runner, JUnit XML, coverage, the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from dissemination import default_policy
from dissemination.cli import main
from dissemination.errors import CaseError
from dissemination.tooling import load_case_file, measure_coverage, run_cases
from dissemination.tooling.runner import format_failure
from tests.conftest import EXAMPLES, ROOT

CASES = ROOT / "tests" / "cases"
HUMBER_READERS = "../../examples/humber/readers"

PASSING = textwrap.dedent(
    """\
    description: a passing file
    now: 2026-11-27T10:00:00Z
    readers:
      io: {reader}/bf-intel-officer.yaml
    cases:
      - description: the intelligence officer sees the container item in full
        reader: io
        item: {item}
        expect: {{view: full, rules: [base.full]}}
    """
)

FAILING = textwrap.dedent(
    """\
    description: a failing file
    now: 2026-11-27T10:00:00Z
    cases:
      - description: this one passes
        reader: {reader}/bf-intel-officer.yaml
        item: {item}
        expect: {{view: full}}
      - name: wrong
        description: this one expects too much of an agency officer
        reader: {reader}/agency-frontline.yaml
        item: {item}
        expect:
          view: full
          portions: [p1, p2]
          must_not_contain: [MSCU1234566]
    """
)


def _write(directory: Path, name: str, template: str) -> Path:
    readers = EXAMPLES.resolve() / "humber" / "readers"
    item = EXAMPLES.resolve() / "humber" / "items" / "hum-001-container.yaml"
    path = directory / name
    path.write_text(template.format(reader=readers, item=item), encoding="utf-8")
    return path


def test_passing_file_passes(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.policy.yaml", PASSING)
    report = run_cases([path])
    assert report.summary == "1 passed, 0 failed"
    assert report.results[0].case.line == 6


def test_failing_case_fails_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.policy.yaml", FAILING)
    report = run_cases([tmp_path])
    assert report.summary == "1 passed, 1 failed"
    failed = next(result for result in report.results if not result.passed)
    text = format_failure(failed)
    assert text.startswith(f"{path}:8: case `wrong` failed")
    assert "view: expected `full`, got `gist`" in text
    assert "portions: expected [p1, p2], got [p1]" in text
    assert "must_not_contain: `MSCU1234566` appears in the json view" in text


def test_cli_test_prints_failures_and_summary_and_exits_1(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.policy.yaml", FAILING)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", str(path), "--junit-xml", str(junit)])
    assert result.exit_code == 1
    assert f"{path}:8: case `wrong` failed" in result.output
    assert result.output.rstrip().endswith("1 passed, 1 failed")
    root = ET.fromstring(junit.read_text(encoding="utf-8"))  # noqa: S314 (our own output)
    assert root.get("tests") == "2"
    assert root.get("failures") == "1"
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 1
    assert failures[0].get("message") == "view: expected `full`, got `gist`"


def test_cli_test_passes_with_exit_0(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.policy.yaml", PASSING)
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 passed, 0 failed"


def test_project_cases_cover_every_row_of_the_default_policy() -> None:
    report = run_cases([CASES])
    assert report.failed == 0
    assert len(report.results) >= 90
    coverage = measure_coverage(report.results, default_policy())
    assert coverage.missed == ()
    assert coverage.percent == 100.0


def test_cli_coverage_and_min_coverage(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.policy.yaml", PASSING)
    runner = CliRunner()
    result = runner.invoke(main, ["test", str(path), "--coverage"])
    assert result.exit_code == 0
    assert "not exercised:" in result.output
    assert "`cap.agency`" in result.output
    result = runner.invoke(main, ["test", str(path), "--min-coverage", "90"])
    assert result.exit_code == 1
    assert "is below 90%" in result.output
    result = runner.invoke(main, ["test", str(CASES), "--min-coverage", "100"])
    assert result.exit_code == 0, result.output


def test_example_policy_change_cases_pass_on_the_new_policy_only() -> None:
    cases = EXAMPLES / "policy-change" / "cases"
    assert run_cases([cases]).failed == 0
    assert run_cases([cases], policy=default_policy()).failed == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: [\n  {unclosed\n", "not valid YAML"),
        ("- just a list\n", "a case file is a mapping with `cases`"),
        (
            "cases:\n  - description: d\n    reader: r.yaml\n    item: i.yaml\n"
            "    expect: {view: full}\n    colour: blue\n",
            ":6: `cases.0.?`: unknown key",
        ),
        (
            "cases:\n  - description: d\n    reader: r.yaml\n    item: i.yaml\n"
            "    expect: {view: fullish}\n",
            ":5: `cases.0.expect.view`",
        ),
        (
            "cases:\n  - description: d\n    reader: missing.yaml\n    item: i.yaml\n"
            "    expect: {view: full}\n",
            ":3: case `d`: reader names neither a reader of the file nor a file",
        ),
    ],
)
def test_bad_case_files_are_one_line_errors_with_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError) as raised:
        load_case_file(path)
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(path))
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith("error: ")


def test_unknown_field_in_an_inline_reader_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.policy.yaml"
    path.write_text(
        "now: 2026-11-27T10:00:00Z\ncases:\n  - description: d\n    reader:\n"
        "      id: r\n      organisation: nca\n      employment: agency\n"
        "      nationality: GBR\n      shoe_size: 9\n"
        f"    item: {EXAMPLES.resolve()}/humber/items/hum-001-container.yaml\n"
        "    expect: {view: full}\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseError, match=r":9: case `d`: reader `\?`: unknown field"):
        load_case_file(path)


def test_a_must_not_contain_string_the_item_lacks_is_refused(tmp_path: Path) -> None:
    # Such a check could never fail: the case would pass whatever the policy shows.
    text = FAILING.replace("[MSCU1234566]", "[MSCU1234566, no such words]")
    path = _write(tmp_path, "vacuous.policy.yaml", text)
    with pytest.raises(CaseError) as raised:
        load_case_file(path)
    assert str(raised.value) == (
        f"{path}:15: case `wrong`: `must_not_contain.1` is nowhere in the item, "
        "so the check could not fail"
    )


def test_missing_policy_directory_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["test", str(CASES), "--policy", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "policy directory does not exist" in result.output


def test_extends_chains_and_overrides(tmp_path: Path) -> None:
    case_file = load_case_file(CASES / "caps.policy.yaml")
    contractor = next(case for case in case_file.cases if case.name == "cap.contractor")
    assert contractor.reader.employment == "contractor"
    assert contractor.reader.vetting is not None
    assert contractor.reader.vetting.level == "SC"


def test_pytest_plugin_collects_policy_files_and_reports_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "ok.policy.yaml", PASSING)
    bad = _write(tmp_path, "bad.policy.yaml", FAILING)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 2 passed" in result.stdout
    assert f"{bad}:8: case `wrong` failed" in result.stdout
    assert "view: expected `full`, got `gist`" in result.stdout


def test_pytest_plugin_reports_a_broken_case_file_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.policy.yaml"
    broken.write_text("cases: [\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error: {broken}:2: not valid YAML" in result.stdout


def test_a_directory_with_no_case_file_is_exit_2_not_a_pass(tmp_path: Path) -> None:
    # A run of no cases passed ("0 passed, 0 failed", exit 0) whatever the policy did:
    # a mistyped or emptied cases directory turned a security team's CI green.
    (tmp_path / "notes.yaml").write_text("not a case file\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2
    assert "no `*.policy.yaml` case file" in result.output
    assert str(tmp_path) in result.output
    assert "passed" not in result.output
