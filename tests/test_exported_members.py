"""The public door (issue 11 item 8): `__all__`, the package and README.md must not drift apart.

As httpx keeps `tests/test_exported_members.py`: every exported name exists and
is defined in a module of the core (not re-exported from a dependency, not
defined in `__init__`), no name shadows a builtin, and the names README.md's
"The public API" lists are exactly the exported ones (and, for each
subpackage it names, exported there).
"""

from __future__ import annotations

import builtins
import importlib
import re
from pathlib import Path

import pytest

import dissemination

README = Path(__file__).resolve().parent.parent / "README.md"

CORE_MODULES = {
    "dissemination.bulk",
    "dissemination.decision",
    "dissemination.errors",
    "dissemination.loading",
    "dissemination.models",
    "dissemination.policy",
    "dissemination.redaction",
    "dissemination.vocabulary",
}
"""Where the door's names are defined: the core of DESIGN §3, nothing of the edges."""


def _api_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## The public API", 1)[1].split("\n## ", 1)[0]


def _documented() -> tuple[set[str], dict[str, set[str]]]:
    core_part, subpackages_part = _api_section().split("reached through its own subpackage", 1)
    core = set(re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)`", core_part)) - {"dissemination"}
    subpackages: dict[str, set[str]] = {}
    for line in subpackages_part.splitlines():
        found = re.match(r"- `(dissemination\.\w+)`: (.*)", line)
        if found:
            subpackages[found.group(1)] = set(re.findall(r"`(\w+)`", found.group(2)))
    return core, subpackages


def test_all_is_unique_sorted_and_complete() -> None:
    exported = dissemination.__all__
    assert len(set(exported)) == len(exported)
    public = {
        name
        for name, value in vars(dissemination).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("dissemination")
    }
    assert public <= set(exported)
    for name in exported:
        assert hasattr(dissemination, name), name


@pytest.mark.parametrize("name", dissemination.__all__)
def test_each_exported_name_comes_from_the_core(name: str) -> None:
    value = getattr(dissemination, name)
    if name == "DEFAULT_POLICY_DIR":  # a constant: no __module__ of its own
        assert importlib.import_module("dissemination.policy").DEFAULT_POLICY_DIR is value
        return
    if name == "LabelCheck":  # a type alias: it is defined where decide is
        assert importlib.import_module("dissemination.decision").LabelCheck is value
        return
    assert value.__module__ in CORE_MODULES, (name, value.__module__)
    assert getattr(importlib.import_module(value.__module__), name) is value


@pytest.mark.parametrize("name", dissemination.__all__)
def test_no_exported_name_shadows_a_builtin(name: str) -> None:
    assert name not in dir(builtins)


def test_all_matches_the_readme() -> None:
    core, _ = _documented()
    assert core == set(dissemination.__all__)


def test_each_subpackage_exports_what_the_readme_says() -> None:
    _, subpackages = _documented()
    assert set(subpackages) == {
        "dissemination.registry",
        "dissemination.integrity",
        "dissemination.audit",
        "dissemination.stix",
        "dissemination.tooling",
    }
    for module_name, names in subpackages.items():
        module = importlib.import_module(module_name)
        assert names <= set(module.__all__), (module_name, names - set(module.__all__))
        for name in names:
            assert getattr(module, name) is not None


def test_the_edges_are_not_at_the_door() -> None:
    for name in ("Registry", "sign_label", "open_trail", "run_cases", "filter"):
        assert name not in dissemination.__all__
        assert not hasattr(dissemination, name)


def test_a_view_prints_its_name() -> None:
    assert str(dissemination.View.GIST) == "gist"
    assert f"{dissemination.View.SANITISED}" == "sanitised"
    assert dissemination.View.GIST > dissemination.View.POINTER
