"""The casbin adapter: the one module that imports casbin, and the library's model.

casbin is the authority on what the rows mean; this module only wraps it. A
request is a set of facts and a view; the decision asks for each view from best
to worst. The matcher calls three functions registered here: `holds` (do the
request's facts satisfy a row's `a & b & !c`), `view_at_most` and `view_above`
(the view order).

The model (`MODEL`: request, policy, effect and matcher sections) is the
library's, not the profile's: a profile's `model.conf` must say exactly this
model (`check_model`), so the meaning of a row is fixed and the derived
evaluator of `dissemination.compiled` can be proven equal to casbin. casbin is
handed `MODEL_TEXT`, the library's own text, never the file's.

Any exception casbin raises while answering is an `EngineFailure`; `decide`
turns it into `none` (fail closed).

Because the answer depends only on the set of facts, answers are cached by that
set (the fact space is finite, DESIGN §3). The cache is per engine, and an
engine is built from one set of policy files, so a changed policy is a new
engine with an empty cache.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import casbin  # the only casbin import in the package

from dissemination.errors import PolicyError, safe_term
from dissemination.vocabulary import View

__all__ = [
    "DENY_OVERRIDES",
    "MODEL",
    "MODEL_TEXT",
    "CasbinEngine",
    "EngineFailure",
    "ModelProblem",
    "condition_holds",
    "model_problems",
    "parse_condition",
]

DENY_OVERRIDES = "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
"""The policy effect: deny by default, any deny overrides allow."""

MODEL: dict[str, dict[str, str]] = {
    "request_definition": {"r": "facts, view", "r2": "view, facts"},
    "policy_definition": {
        "p": "rule, when, view, obligation, eft",
        "p2": "rule, view, when, eft",
    },
    "policy_effect": {"e": DENY_OVERRIDES, "e2": DENY_OVERRIDES},
    "matchers": {
        "m": 'holds(r.facts, p.when) && ((p.eft == "allow" && view_at_most(r.view, p.view))'
        ' || (p.eft == "deny" && view_above(r.view, p.view)))',
        "m2": "r2.view == p2.view && holds(r2.facts, p2.when)",
    },
}
"""The library's casbin model, section by section: the one meaning of a row.

`p` rows: an allow row grants its view and every lower one, a deny row denies
every view above its cap; deny overrides allow and nothing is allowed by
default. `p2` rows: at a view, a portion is shown when an allow row for that
view matches its facts and no deny row does.
"""

MODEL_TEXT = "".join(
    f"[{section}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items()) + "\n"
    for section, entries in MODEL.items()
)
"""`MODEL` as casbin reads it."""


class EngineFailure(Exception):  # noqa: N818 (an internal signal, not an error users see)
    """casbin or the derived evaluator raised while deciding; `decide` fails closed on it.

    Its cause is the original exception; its message is only the cause's type,
    never the cause's text (which may quote facts or rows).
    """


@dataclass(frozen=True, slots=True)
class ModelProblem:
    """A way a `model.conf` differs from the library's model.

    Attributes:
        line: the 1-based line (of the key, or of the section's header, or the
            file's last line for a section that is missing).
        section: the section it concerns.
        message: one lowercase line naming the section.
    """

    line: int
    section: str
    message: str


_SPACE = re.compile(r"\s+")
_AROUND_PUNCTUATION = re.compile(r" ?([^\w ]) ?")


def _normalised(value: str) -> str:
    """A model value with runs of whitespace collapsed and none beside punctuation."""
    return _AROUND_PUNCTUATION.sub(r"\1", _SPACE.sub(" ", value).strip())


_CANONICAL = {
    section: {key: _normalised(value) for key, value in entries.items()}
    for section, entries in MODEL.items()
}


def _entry_problem(section: str, line: str, found: dict[str, str]) -> str | None:
    """What is wrong with one `key = value` line of a section (None: it is the model's)."""
    key, equals, value = line.partition("=")
    key = key.strip()
    where = f"`{section}`"
    if not equals:
        return f"{where}: line is not `key = value`"
    expected = _CANONICAL[section].get(key)
    if expected is None:
        return f"{where}: unknown key {safe_term(key)}"
    if key in found:
        return f"{where}: `{key}` is given twice"
    found[key] = value
    if _normalised(value) == expected:
        return None
    if section == "policy_effect":
        return (
            f"{where}: effect `{key}` must be `{DENY_OVERRIDES}` "
            "(deny by default, deny overrides allow)"
        )
    return (
        f"{where}: `{key}` is not the library's model "
        "(a profile changes policy.csv and profile.yaml, not the model)"
    )


def model_problems(text: str) -> list[ModelProblem]:
    """Every way a `model.conf` text differs from the library's model.

    Whitespace and comment lines (`#` or `;`) do not count; the order of the
    sections and of the keys within one does not count. Anything else does:
    a section or key the model lacks or adds, a key given twice, a value that
    differs.

    Args:
        text: the file's content.

    Returns:
        The problems, in line order (empty when the text is the library's model).
    """
    problems: list[ModelProblem] = []
    found: dict[str, dict[str, str]] = {}
    headers: dict[str, int] = {}
    section = ""
    lines = text.split("\n")
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = _SPACE.sub("", line[1:-1])
            if section not in _CANONICAL:
                problems.append(
                    ModelProblem(number, section, f"unknown section {safe_term(section)}")
                )
            elif section in headers:
                problems.append(
                    ModelProblem(number, section, f"section `{section}` is given twice")
                )
            headers.setdefault(section, number)
            found.setdefault(section, {})
            continue
        if not section:
            problems.append(ModelProblem(number, section, "line outside any section"))
            continue
        if section not in _CANONICAL:
            continue  # already reported at its header
        message = _entry_problem(section, line, found[section])
        if message is not None:
            problems.append(ModelProblem(number, section, message))
    end = len(lines)
    for name, entries in _CANONICAL.items():
        if name not in headers:
            problems.append(ModelProblem(end, name, f"model has no section `{name}`"))
            continue
        problems.extend(
            ModelProblem(headers[name], name, f"`{name}` has no `{key}`")
            for key in entries
            if key not in found[name]
        )
    return sorted(problems, key=lambda problem: problem.line)


_ASKED = (View.FULL, View.SANITISED, View.GIST, View.POINTER)
_VIEW_NAMES = {view.label: view for view in View}

# pycasbin logs every enforce at INFO on its own logger; it is our engine, not
# our caller's concern.
logging.getLogger("casbin").setLevel(logging.WARNING)


@lru_cache(maxsize=4096)
def parse_condition(when: str) -> tuple[frozenset[str], frozenset[str]]:
    """Split a row's condition `a & b & !c` into needed and forbidden facts.

    Args:
        when: the condition as written in the policy file.

    Returns:
        (facts that must hold, facts that must not hold).
    """
    needed: set[str] = set()
    forbidden: set[str] = set()
    for part in when.split("&"):
        term = part.strip()
        if term.startswith("!"):
            forbidden.add(term[1:].strip())
        elif term:
            needed.add(term)
    return frozenset(needed), frozenset(forbidden)


def condition_holds(
    needed: frozenset[str], forbidden: frozenset[str], facts: frozenset[str]
) -> bool:
    """Whether a row's condition holds: every needed fact present, no forbidden one.

    The matcher's `holds`; `compiled.RowTable` asks the same of fact bits.
    """
    return needed <= facts and forbidden.isdisjoint(facts)


def _holds(facts: frozenset[str], when: str) -> bool:
    needed, forbidden = parse_condition(when)
    return condition_holds(needed, forbidden, facts)


def _view_at_most(asked: str, granted: str) -> bool:
    return _VIEW_NAMES[asked] <= _VIEW_NAMES[granted]


def _view_above(asked: str, cap: str) -> bool:
    return _VIEW_NAMES[asked] > _VIEW_NAMES[cap]


class _TextAdapter(casbin.persist.Adapter):  # type: ignore[misc]  # pycasbin is untyped
    """Hands casbin the policy text the caller already read, checked and digested.

    casbin's own line reader (`load_policy_line`) parses each line, exactly as
    its file adapter would; only the file is not opened a second time, so what
    casbin enforces is the very text that was checked (no window in which the
    file could change between our check and casbin's read).
    """

    def __init__(self, text: str) -> None:
        self._text = text

    def load_policy(self, model: Any) -> None:
        sections = model.model
        for raw in self._text.split("\n"):
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            if any(bracket in line for bracket in "[]()"):
                casbin.persist.load_policy_line(line, model)
                continue
            # Without brackets casbin's tokenizer is a split on commas, each
            # token stripped: the same tokens, without its character-by-character
            # loop (50,000 rows: seconds saved). Loading refuses bracketed rows anyway.
            tokens = [token.strip() for token in line.split(",")]
            key = tokens[0]
            if key[:1] in sections and key in sections[key[:1]]:
                sections[key[:1]][key].policy.append(tokens[1:])


class CasbinEngine:
    """A casbin enforcer over one profile's model and policy text.

    The model is always the library's (`MODEL_TEXT`): the caller checks the
    profile's `model.conf` against it (`model_problems`) before building one.

    Args:
        policy_text: the policy rows (`policy.csv`), as read.
        expected_rows: how many rows of each ptype the caller parsed; a
            mismatch means casbin dropped or invented rows, and is an error.
        source: the profile directory, for messages.

    Raises:
        PolicyError: casbin cannot load the text, or loaded other rows.
    """

    def __init__(self, policy_text: str, expected_rows: dict[str, int], *, source: Path) -> None:
        """Load the enforcer and check it holds exactly the rows expected."""
        try:
            model = casbin.Enforcer.new_model(text=MODEL_TEXT)
            enforcer = casbin.Enforcer(model, _TextAdapter(policy_text))
        except Exception as exc:  # casbin raises bare Exceptions of many kinds
            raise PolicyError(
                f"casbin cannot load the policy ({type(exc).__name__})",
                path=str(source / "policy.csv"),
            ) from exc
        for name, function in (
            ("holds", _holds),
            ("view_at_most", _view_at_most),
            ("view_above", _view_above),
        ):
            enforcer.add_function(name, function)
        for ptype, count in expected_rows.items():
            loaded = len(enforcer.get_named_policy(ptype))
            if loaded != count:
                raise PolicyError(
                    f"casbin loaded {loaded} `{ptype}` rows where the file has {count}",
                    path=str(source / "policy.csv"),
                )
        self._enforcer = enforcer
        self._content = enforcer.new_enforce_context("2")
        self._views: dict[frozenset[str], View] = {}
        self._shows: dict[tuple[View, frozenset[str]], bool] = {}

    def allows(self, facts: frozenset[str], view: View) -> bool:
        """Ask casbin once: may a reader with these facts have this view?

        Args:
            facts: the facts of the request.
            view: the view asked for (not `none`).

        Returns:
            casbin's answer, uncached.

        Raises:
            EngineFailure: casbin raised.
        """
        try:
            return bool(self._enforcer.enforce(facts, view.label))
        except Exception as exc:  # fail closed: whatever casbin raises
            raise EngineFailure(type(exc).__name__) from exc

    def decide_view(self, facts: frozenset[str]) -> View:
        """The best view casbin allows for these facts (`none` if it allows none).

        Cached by the fact set.
        """
        cached = self._views.get(facts)
        if cached is not None:
            return cached
        view = self.decide_view_uncached(facts)
        self._views[facts] = view
        return view

    def decide_view_uncached(self, facts: frozenset[str]) -> View:
        """The best view casbin allows for these facts, asking casbin every time."""
        for view in _ASKED:
            if self.allows(facts, view):
                return view
        return View.NONE

    def shows(self, view: View, facts: frozenset[str]) -> bool:
        """Whether the content rows (`p2`) show a portion or subject at a view.

        Args:
            view: the reader's view.
            facts: the portion's facts (`category.narrative`, `subject`).

        Returns:
            casbin's answer, cached by (view, facts).

        Raises:
            EngineFailure: casbin raised.
        """
        key = (view, facts)
        cached = self._shows.get(key)
        if cached is None:
            try:
                cached = bool(self._enforcer.enforce(self._content, view.label, facts))
            except Exception as exc:  # fail closed: whatever casbin raises
                raise EngineFailure(type(exc).__name__) from exc
            self._shows[key] = cached
        return cached

    def shows_uncached(self, view: View, facts: frozenset[str]) -> bool:
        """`shows`, asking casbin every time (for verification).

        Raises:
            EngineFailure: casbin raised.
        """
        try:
            return bool(self._enforcer.enforce(self._content, view.label, facts))
        except Exception as exc:  # fail closed: whatever casbin raises
            raise EngineFailure(type(exc).__name__) from exc

    def cached_fact_sets(self) -> Iterable[frozenset[str]]:
        """The fact sets decided so far (for tests and tooling)."""
        return tuple(self._views)
