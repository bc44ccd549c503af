"""The casbin adapter: the one module that imports casbin.

casbin decides; this module only wraps it. A request is a set of facts and a
view; the decision asks for each view from best to worst. The matcher calls
three functions registered here: `holds` (do the request's facts satisfy a
row's `a & b & !c`), `view_at_most` and `view_above` (the view order).

Because the answer depends only on the set of facts, answers are cached by that
set (the fact space is finite, DESIGN §3). The cache is per engine, and an
engine is built from one set of policy files, so a changed policy is a new
engine with an empty cache.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import casbin  # the only casbin import in the package

from dissemination.errors import PolicyError
from dissemination.vocabulary import View

__all__ = ["CasbinEngine", "parse_condition"]

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


def _holds(facts: frozenset[str], when: str) -> bool:
    needed, forbidden = parse_condition(when)
    return needed <= facts and forbidden.isdisjoint(facts)


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

    def load_policy(self, model: object) -> None:
        for line in self._text.split("\n"):
            casbin.persist.load_policy_line(line.strip(), model)


class CasbinEngine:
    """A casbin enforcer over one profile's model and policy text.

    Args:
        model_text: the casbin model (`model.conf`), as read.
        policy_text: the policy rows (`policy.csv`), as read.
        expected_rows: how many rows of each ptype the caller parsed; a
            mismatch means casbin dropped or invented rows, and is an error.
        source: the profile directory, for messages.

    Raises:
        PolicyError: casbin cannot load the text, or loaded other rows.
    """

    def __init__(
        self, model_text: str, policy_text: str, expected_rows: dict[str, int], *, source: Path
    ) -> None:
        """Load the enforcer and check it holds exactly the rows expected."""
        try:
            model = casbin.Enforcer.new_model(text=model_text)
            enforcer = casbin.Enforcer(model, _TextAdapter(policy_text))
        except Exception as exc:  # casbin raises bare Exceptions of many kinds
            raise PolicyError(
                f"casbin cannot load the policy ({type(exc).__name__})",
                path=str(source / "model.conf"),
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
        """
        return bool(self._enforcer.enforce(facts, view.label))

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
        """
        key = (view, facts)
        cached = self._shows.get(key)
        if cached is None:
            cached = bool(self._enforcer.enforce(self._content, view.label, facts))
            self._shows[key] = cached
        return cached

    def cached_fact_sets(self) -> Iterable[frozenset[str]]:
        """The fact sets decided so far (for tests and tooling)."""
        return tuple(self._views)
