"""A pytest plugin: policy case files (`*.policy.yaml`) are collected as test items.

Installed with the package (the `pytest11` entry point `dissemination`), so a
policy repository is tested with plain `pytest`: each case is one test item,
named by its case name and reported at its file and line. A case file that
cannot be used fails collection with a one-line error naming the file and line.

Options:
    --policy-dir DIR   decide every case by the policy in DIR (default: each
                       file's own `policy`, else the embedded default profile).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dissemination.errors import DisseminationError
from dissemination.policy import Policy, load_policy
from dissemination.tooling.cases import CASE_SUFFIX, Case, load_case_file
from dissemination.tooling.runner import CaseResult, format_failure, run_case

__all__ = [
    "PolicyCaseError",
    "PolicyCaseFailed",
    "PolicyCaseFile",
    "PolicyCaseItem",
    "pytest_addoption",
    "pytest_collect_file",
]


class PolicyCaseFailed(Exception):  # noqa: N818 (pytest's own outcome exceptions read the same)
    """Raised by a policy case item whose expectations did not hold."""

    def __init__(self, result: CaseResult) -> None:
        """Keep the result for the report."""
        super().__init__(format_failure(result))
        self.result = result


class PolicyCaseError(Exception):
    """A case file that cannot be collected: reported as one line."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--policy-dir`."""
    group = parser.getgroup("dissemination", "dissemination policy cases")
    group.addoption(
        "--policy-dir",
        dest="dissemination_policy_dir",
        default=None,
        metavar="DIR",
        help="decide *.policy.yaml cases by the policy in DIR",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> PolicyCaseFile | None:
    """Collect `*.policy.yaml` files.

    Args:
        parent: the collector of the directory.
        file_path: a file pytest found.

    Returns:
        A collector for a policy case file, else None.
    """
    if file_path.name.endswith(CASE_SUFFIX):
        return PolicyCaseFile.from_parent(parent, path=file_path)
    return None


_POLICIES: dict[Path, Policy] = {}


def _policy(config: pytest.Config) -> Policy | None:
    directory = config.getoption("dissemination_policy_dir")
    if directory is None:
        return None
    path = Path(directory).resolve()
    if path not in _POLICIES:
        _POLICIES[path] = load_policy(path)
    return _POLICIES[path]


class PolicyCaseFile(pytest.File):
    """A `*.policy.yaml` file: one test item per case."""

    def collect(self) -> Iterator[PolicyCaseItem]:
        """Load the file and yield its cases.

        Raises:
            PolicyCaseError: the file cannot be used (one line, file and line).
        """
        try:
            case_file = load_case_file(self.path, policy=_policy(self.config))
        except DisseminationError as exc:
            raise PolicyCaseError(str(exc)) from None
        for case in case_file.cases:
            yield PolicyCaseItem.from_parent(
                self, name=case.name, case=case, policy=case_file.policy
            )

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str:
        """A collection error of a case file is its one-line message."""
        if isinstance(excinfo.value, PolicyCaseError):
            return f"error: {excinfo.value}"
        return str(super().repr_failure(excinfo))


class PolicyCaseItem(pytest.Item):
    """One case of a policy case file."""

    def __init__(self, *, case: Case, policy: Policy, **kwargs: Any) -> None:
        """Keep the case and the policy it runs against."""
        super().__init__(**kwargs)
        self.case = case
        self.policy = policy

    def runtest(self) -> None:
        """Decide the case and check its expectations.

        Raises:
            PolicyCaseFailed: an expectation did not hold.
        """
        try:
            result = run_case(self.case, self.policy)
        except DisseminationError as exc:
            raise PolicyCaseError(str(exc)) from None
        if not result.passed:
            raise PolicyCaseFailed(result)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str:
        """The failures with expected and actual values, at the case's file and line."""
        if isinstance(excinfo.value, PolicyCaseFailed | PolicyCaseError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the case is written: its file and (0-based) line, and its name."""
        return self.path, self.case.line - 1, f"policy case: {self.case.name}"
