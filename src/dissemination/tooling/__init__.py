"""Policy tooling for security teams: test cases, coverage, lint, exhaustive diff, who-can-see.

One concept per module:

- `cases`: the YAML case-file format, validated on load with file and line;
- `runner`: runs cases against a policy, reports failures and JUnit XML;
- `coverage`: which policy rows and facts the cases exercised;
- `factspace`: the finite, reachable fact space of a vocabulary, and a
  concrete reader and item for every point of it;
- `diff`: the exhaustive comparison of two policies over that space;
- `lint`: findings about a policy directory, one line each with file and line;
- `whocansee`: who can see an item, what a reader can see, and `explain`;
- `pytest_plugin`: collects `*.policy.yaml` files as pytest items.

The policy-testing API is exported here (`from dissemination.tooling import
run_cases`), not from the top-level package.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use (below): `view` loads only what it needs
    from dissemination.tooling.cases import load_case_file
    from dissemination.tooling.coverage import measure_coverage
    from dissemination.tooling.diff import diff_policies
    from dissemination.tooling.lint import lint_policy
    from dissemination.tooling.runner import run_cases
    from dissemination.tooling.whocansee import explain, what_can_see, who_can_see

_LAZY = {
    "diff_policies": "dissemination.tooling.diff",
    "explain": "dissemination.tooling.whocansee",
    "lint_policy": "dissemination.tooling.lint",
    "load_case_file": "dissemination.tooling.cases",
    "measure_coverage": "dissemination.tooling.coverage",
    "run_cases": "dissemination.tooling.runner",
    "what_can_see": "dissemination.tooling.whocansee",
    "who_can_see": "dissemination.tooling.whocansee",
}

__all__ = [
    "diff_policies",
    "explain",
    "lint_policy",
    "load_case_file",
    "measure_coverage",
    "run_cases",
    "what_can_see",
    "who_can_see",
]


def __getattr__(name: str) -> Any:
    """Import a policy-testing name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module `dissemination.tooling` has no attribute `{name}`")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
