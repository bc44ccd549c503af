"""Running policy test cases: decide, compare with the expectations, report.

A case passes when every expectation holds; a failure lists each expectation
that did not, with what was expected and what the decision gave. Problems with
the case files themselves (not YAML, an unknown key, a missing reader) are
`CaseError`s, not failures: a suite that cannot be read has not passed.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from dissemination.decision import Decision, decide
from dissemination.errors import CaseError
from dissemination.policy import Policy
from dissemination.redaction import render, render_text
from dissemination.tooling.cases import (
    Case,
    CaseFile,
    apply_overrides,
    discover_case_files,
    load_case_file,
)

__all__ = [
    "CaseResult",
    "RunReport",
    "check_case",
    "format_failure",
    "junit_xml",
    "run_case",
    "run_cases",
]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case.

    Attributes:
        case: the case.
        policy: the policy it ran against.
        decision: the decision the policy made.
        failures: one line per expectation that did not hold (empty: passed).
        seconds: how long the decision and checks took.
    """

    case: Case
    policy: Policy
    decision: Decision
    failures: tuple[str, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures


@dataclass(frozen=True, slots=True)
class RunReport:
    """The outcome of a run over case files.

    Attributes:
        files: the case files run, in order.
        results: one result per case, in file order.
    """

    files: tuple[CaseFile, ...]
    results: tuple[CaseResult, ...] = field(default=())

    @property
    def passed(self) -> int:
        """How many cases passed."""
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        """How many cases failed."""
        return len(self.results) - self.passed

    @property
    def summary(self) -> str:
        """`N passed, M failed`."""
        return f"{self.passed} passed, {self.failed} failed"


def _listed(values: Iterable[str]) -> str:
    return "[" + ", ".join(values) + "]"


def check_case(case: Case, decision: Decision) -> tuple[str, ...]:
    """Compare a decision with a case's expectations.

    Args:
        case: the case.
        decision: the decision made for its reader and item.

    Returns:
        One line per expectation that did not hold, `expected ..., got ...`.
    """
    expect = case.expect
    failures: list[str] = []
    if decision.view.label != expect.view:
        failures.append(f"view: expected `{expect.view}`, got `{decision.view.label}`")
    if expect.portions is not None and set(expect.portions) != set(decision.portions):
        failures.append(
            f"portions: expected {_listed(expect.portions)}, got {_listed(decision.portions)}"
        )
    if expect.subjects is not None:
        shown = [case.item.subject_key(index) for index in decision.subjects]
        if set(expect.subjects) != set(shown):
            failures.append(f"subjects: expected {_listed(expect.subjects)}, got {_listed(shown)}")
    if expect.obligations is not None and set(expect.obligations) != set(decision.obligations):
        failures.append(
            f"obligations: expected {_listed(expect.obligations)}, "
            f"got {_listed(decision.obligations)}"
        )
    if expect.rules is not None:
        missing = [rule for rule in expect.rules if rule not in decision.rules]
        if missing:
            failures.append(
                f"rules: expected {_listed(missing)} among the reasons, "
                f"got {_listed(decision.rules)}"
            )
    if expect.must_not_contain:
        outputs = {
            "json view": json.dumps(render(case.item, decision), ensure_ascii=False),
            "text view": render_text(case.item, decision),
        }
        for text in expect.must_not_contain:
            for where, output in outputs.items():
                if text in output:
                    failures.append(f"must_not_contain: `{text}` appears in the {where}")
    return tuple(failures)


def run_case(case: Case, policy: Policy, *, now: dt.datetime | None = None) -> CaseResult:
    """Decide one case and check it.

    Args:
        case: the case.
        policy: the policy to decide by.
        now: the time when neither the case nor its file gives one.

    Returns:
        The result.

    Raises:
        CaseError: no time is given by the case, its file or `now`.
    """
    started = time.perf_counter()
    when = case.now or now
    if when is None:
        raise CaseError(
            f"case `{case.name}` has no `now` (give it in the case, the file or with --now)",
            path=str(case.path),
            line=case.line,
        )
    deciding, label_check = apply_overrides(policy, case.overrides)
    decision = decide(case.reader, case.item, now=when, policy=deciding, label_check=label_check)
    failures = check_case(case, decision)
    return CaseResult(case, policy, decision, failures, time.perf_counter() - started)


def run_cases(
    paths: Iterable[str | Path],
    *,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
) -> RunReport:
    """Load every case file under `paths` and run its cases.

    Args:
        paths: case files and directories (searched for `*.policy.yaml`).
        policy: the policy to run every case against; when None, each file's
            own `policy`, else the embedded default.
        now: the time for cases that give none.

    Returns:
        The report, with one result per case.

    Raises:
        CaseError: a path does not exist, a file cannot be used, or a case
            has no time.
        PolicyError: a policy directory cannot be loaded.
    """
    files = tuple(load_case_file(path, policy=policy) for path in discover_case_files(paths))
    results = tuple(
        run_case(case, case_file.policy, now=now) for case_file in files for case in case_file.cases
    )
    return RunReport(files=files, results=results)


def format_failure(result: CaseResult) -> str:
    """A failed case as text: `file:line: case `name`` then one indented line per failure.

    Args:
        result: a failed result.

    Returns:
        The text, without a final newline.
    """
    lines = [f"{result.case.location}: case `{result.case.name}` failed"]
    lines.extend(f"    {failure}" for failure in result.failures)
    return "\n".join(lines)


def junit_xml(results: Sequence[CaseResult]) -> str:
    """The results as JUnit XML, one `testsuite` per case file.

    Args:
        results: the results of a run.

    Returns:
        The XML document.
    """
    root = ET.Element("testsuites", name="dissemination policy tests")
    suites: dict[Path, ET.Element] = {}
    for result in results:
        path = result.case.path
        suite = suites.get(path)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=str(path))
            suites[path] = suite
        testcase = ET.SubElement(
            suite,
            "testcase",
            classname=path.name.removesuffix(".policy.yaml"),
            name=result.case.name,
            file=str(path),
            line=str(result.case.line),
            time=f"{result.seconds:.6f}",
        )
        if result.failures:
            failure = ET.SubElement(testcase, "failure", message=result.failures[0])
            failure.text = format_failure(result)
    for path, suite in suites.items():
        ran = [result for result in results if result.case.path == path]
        suite.set("tests", str(len(ran)))
        suite.set("failures", str(sum(not result.passed for result in ran)))
        suite.set("errors", "0")
        suite.set("time", f"{sum(result.seconds for result in ran):.6f}")
    root.set("tests", str(len(results)))
    root.set("failures", str(sum(not result.passed for result in results)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
