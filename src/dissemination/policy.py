"""Profiles: a directory of policy files, read, checked and loaded into casbin.

A profile directory holds:

- `model.conf`: the casbin model (request, policy, effect, matchers);
- `policy.csv`: the rules, one row per line (`p` rows fix the view, `p2` rows
  the content each view shows);
- `profile.yaml`: the vocabulary (vetting scale, classifications), settings,
  and the words each rule gives a reader as its reason;
- `README.md`: the rules in plain words, for the people who review them.

The embedded default is `dissemination/policies/default/` (also reachable as
`policies/default/` in the source tree). A deployment copies it, edits rows,
and points `load_policy` (or the CLI's `--policy DIR`) at its own directory.

Rows are parsed here with their line numbers and checked before casbin sees
them: an unknown ptype, a wrong number of fields, an unknown view, effect or
fact, or a repeated rule id is a `PolicyError` naming file and line. casbin
would silently drop or misread such rows, and a mistyped deny row that never
matches would fail open.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dissemination.compiled import CompiledPolicy
from dissemination.engine import CasbinEngine, parse_condition
from dissemination.errors import PolicyError
from dissemination.facts import fact_names
from dissemination.stix.profile import StixTables
from dissemination.vocabulary import View, Vocabulary

__all__ = [
    "DEFAULT_POLICY_DIR",
    "POLICY_FILES",
    "Policy",
    "PolicyRow",
    "ProfileSettings",
    "RowProblem",
    "check_effects",
    "default_policy",
    "default_vocabulary",
    "load_policy",
    "read_rows",
]

DEFAULT_POLICY_DIR = Path(__file__).parent / "policies" / "default"
"""The embedded default (UK) profile."""

POLICY_FILES = ("model.conf", "policy.csv", "profile.yaml")
"""The files of a profile that decide; the policy digest covers exactly these."""

_ARITY = {"p": 5, "p2": 4}
_EFFECTS = ("allow", "deny")


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One rule of `policy.csv`, with where it was written.

    Attributes:
        ptype: `p` (view rows) or `p2` (content rows).
        rule: the rule id (`cap.agency`).
        when: the condition, as written (`handling.no_agency_staff & employment.agency`).
        view: for `p` allow rows the view granted, for deny rows the cap; for
            `p2` rows the view the row is about.
        obligation: for `p` rows, the obligation it attaches (None for `-`).
        effect: `allow` or `deny`.
        path: the file it came from.
        line: its 1-based line number.
    """

    ptype: str
    rule: str
    when: str
    view: View
    obligation: str | None
    effect: str
    path: str
    line: int
    needed: frozenset[str] = field(default=frozenset(), compare=False)
    forbidden: frozenset[str] = field(default=frozenset(), compare=False)

    def matches(self, facts: frozenset[str]) -> bool:
        """Whether the row's condition holds for these facts."""
        return self.needed <= facts and self.forbidden.isdisjoint(facts)

    @property
    def location(self) -> str:
        """`path:line`, for messages."""
        return f"{self.path}:{self.line}"


class ProfileSettings(BaseModel):
    """Switches of a profile (`settings:` in `profile.yaml`).

    Attributes:
        require_signed_labels: when true, an item whose label signature is
            missing or does not verify is shown to nobody.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    require_signed_labels: bool = False


class _ProfileFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    vocabulary: Vocabulary
    settings: ProfileSettings = ProfileSettings()
    rules: dict[str, str] = {}
    stix: StixTables | None = None  # STIX mapping tables, checked against `vocabulary`


def _read_text(path: Path) -> str:
    try:
        # As bytes: no newline translation, so rows are read as casbin reads them.
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PolicyError("policy file is missing", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            f"policy file is unreadable ({type(exc).__name__})", path=str(path)
        ) from exc


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (the same documents, a fifth of the start-up time)."""


def _read_profile(path: Path) -> _ProfileFile:
    return _parse_profile(path, _read_text(path))


def _parse_profile(path: Path, text: str) -> _ProfileFile:
    try:
        data: Any = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError("profile is not valid YAML", path=str(path), line=line) from exc
    try:
        return _ProfileFile.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "profile"
        raise PolicyError(f"`{where}`: {first['msg'].lower()}", path=str(path)) from exc


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with a line of `policy.csv`.

    Attributes:
        line: the 1-based line number.
        message: one lowercase line naming the problem.
        fact: for an unknown fact, the fact's name (lint words it its own way).
    """

    line: int
    message: str
    fact: str | None = None


def _row_problems(fields: list[str], seen: dict[str, int]) -> tuple[list[str], dict[str, str]]:
    """Every structural problem of one row's fields, and the fields by name."""
    ptype, values = fields[0], fields[1:]
    if ptype not in _ARITY:
        return [f"unknown row type `{ptype}`"], {}
    if len(values) != _ARITY[ptype]:
        return [f"`{ptype}` row has {len(values)} fields, expected {_ARITY[ptype]}"], {}
    names = (
        ("rule", "when", "view", "obligation", "effect")
        if ptype == "p"
        else ("rule", "view", "when", "effect")
    )
    named = {"ptype": ptype, "obligation": "-", **dict(zip(names, values, strict=True))}
    problems: list[str] = []
    rule = named["rule"]
    if not rule:
        problems.append("row has an empty rule id")
    elif rule in seen:
        problems.append(f"rule id `{rule}` is already used on line {seen[rule]}")
    if named["effect"] not in _EFFECTS:
        problems.append(f"unknown effect `{named['effect']}`")
    try:
        view = View.parse(named["view"])
    except ValueError:
        problems.append(f"unknown view `{named['view']}`")
    else:
        if named["view"] != view.label:  # casbin compares views exactly as written
            problems.append(f"view `{named['view']}` must be written `{view.label}`")
        if view is View.NONE and (ptype == "p2" or named["effect"] == "allow"):
            problems.append("only a deny row can name `none` (as its cap)")
    if parse_condition(named["when"]) == (frozenset(), frozenset()):
        problems.append("row has an empty condition")
    return problems, named


def read_rows(
    path: Path, text: str, known_facts: frozenset[str] | None
) -> tuple[list[PolicyRow], list[RowProblem]]:
    """Read `policy.csv` as casbin reads it, collecting every problem.

    casbin's file adapter splits on newlines alone and strips each line; a line
    it would read otherwise (another line break, brackets it groups by) is a
    problem, as is any row casbin would drop or misread.

    Args:
        path: the file, for the rows' locations.
        text: its content, as read.
        known_facts: the facts a row may name (None: do not check facts).

    Returns:
        The rows without problems, in file order, and every problem found.
    """
    rows: list[PolicyRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if len(line.splitlines()) > 1 or "\r" in line:
            message = "line holds a line break casbin does not see (only `\\n` ends a row)"
            problems.append(RowProblem(number, message))
            continue
        if not line or line.startswith("#"):
            continue
        if any(bracket in line for bracket in "[]()"):
            message = "row holds a bracket or parenthesis, which casbin reads as grouping"
            problems.append(RowProblem(number, message))
            continue
        found, named = _row_problems([part.strip() for part in line.split(",")], seen)
        found_here = [RowProblem(number, message) for message in found]
        if named:
            seen.setdefault(named["rule"], number)
            needed, forbidden = parse_condition(named["when"])
            if known_facts is not None:
                found_here.extend(
                    RowProblem(number, f"unknown fact `{fact}`", fact)
                    for fact in sorted((needed | forbidden) - known_facts)
                )
            if not found_here:
                rows.append(
                    PolicyRow(
                        ptype=named["ptype"],
                        rule=named["rule"],
                        when=named["when"],
                        view=View.parse(named["view"]),
                        obligation=None
                        if named["obligation"] in ("", "-")
                        else named["obligation"],
                        effect=named["effect"],
                        path=str(path),
                        line=number,
                        needed=needed,
                        forbidden=forbidden,
                    )
                )
        problems.extend(found_here)
    return rows, problems


def _parse_rows(path: Path, text: str, known_facts: frozenset[str]) -> tuple[PolicyRow, ...]:
    rows, problems = read_rows(path, text, known_facts)
    if problems:
        first = problems[0]
        raise PolicyError(first.message, path=str(path), line=first.line)
    return tuple(rows)


DENY_OVERRIDES = "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
"""The only policy effect a profile may use: deny by default, any deny overrides allow."""

_EFFECT_NAMES = ("e", "e2")


def check_effects(path: Path, text: str) -> None:
    """Refuse a model whose effects are not deny-by-default, deny-overrides.

    Args:
        path: the `model.conf` file, for messages.
        text: its content.

    Raises:
        PolicyError: an effect is missing, unknown, or not `DENY_OVERRIDES`.

    The library's promise (fail closed) rests on the effect: with
    `!some(where (p.eft == deny))` alone, a request no row matches is allowed;
    with `some(where (p.eft == allow))` alone, a deny row is ignored. The
    effect is the one part of `model.conf` a deployment must not change.
    """
    section = ""
    found: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section != "policy_effect" or not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        name = name.strip()
        if name not in _EFFECT_NAMES:
            raise PolicyError(f"unknown policy effect `{name}`", path=str(path), line=number)
        if " ".join(value.split()) != DENY_OVERRIDES:
            raise PolicyError(
                f"effect `{name}` must be `{DENY_OVERRIDES}` "
                "(deny by default, deny overrides allow)",
                path=str(path),
                line=number,
            )
        found[name] = number
    for name in _EFFECT_NAMES:
        if name not in found:
            raise PolicyError(f"model has no policy effect `{name}`", path=str(path))


def _digest(texts: dict[str, str]) -> str:
    """`sha256:` over the deciding files, from the text that was read and checked."""
    hasher = hashlib.sha256()
    for name in POLICY_FILES:
        content = texts[name].encode("utf-8")
        hasher.update(name.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    return "sha256:" + hasher.hexdigest()


class Policy:
    """A loaded profile: its vocabulary, settings, rows and casbin engine.

    Build one with `load_policy(directory)`; `default_policy()` is the embedded
    UK profile. A `Policy` never changes after loading: to change rules, edit
    the files and load again (the digest then changes too).

    Attributes:
        directory: where the files were read from.
        name: the profile's name.
        vocabulary: its ordered vocabularies.
        settings: its switches.
        rows: every row of `policy.csv`, in file order.
        digest: `sha256:` over the deciding files, recorded in every decision.
    """

    def __init__(self, directory: Path) -> None:
        """Load and check the profile in `directory`.

        Raises:
            PolicyError: a file is missing, unreadable or malformed.
        """
        if not directory.is_dir():
            raise PolicyError("policy directory does not exist", path=str(directory))
        # Each file is read once: the checks, the digest and casbin all see the
        # same text, so a file changed during loading cannot slip past the checks.
        texts = {name: _read_text(directory / name) for name in POLICY_FILES}
        profile = _parse_profile(directory / "profile.yaml", texts["profile.yaml"])
        policy_path = directory / "policy.csv"
        check_effects(directory / "model.conf", texts["model.conf"])
        self.directory = directory
        self.name = profile.name
        self.description = profile.description
        self.vocabulary = profile.vocabulary
        self.settings = profile.settings
        self.rows = _parse_rows(policy_path, texts["policy.csv"], fact_names(profile.vocabulary))
        self.rule_words = dict(profile.rules)
        self.stix = profile.stix
        self.digest = _digest(texts)
        counts = {ptype: sum(row.ptype == ptype for row in self.rows) for ptype in _ARITY}
        self.engine = CasbinEngine(
            texts["model.conf"], texts["policy.csv"], counts, source=directory
        )
        self.view_rows = tuple(row for row in self.rows if row.ptype == "p")
        self.content_rows = tuple(row for row in self.rows if row.ptype == "p2")
        self._caps_added: dict[tuple[frozenset[str], frozenset[str]], bool] = {}
        self.compiled = CompiledPolicy(self)
        """The fast path's state (`dissemination.compiled`): this policy's alone."""

    def with_profile(
        self, *, vocabulary: Vocabulary | None = None, settings: ProfileSettings | None = None
    ) -> Policy:
        """This policy with another vocabulary or settings (same rows, same casbin engine).

        For what-if questions (policy cases' `with:` blocks): the variant gets
        its own fast-path state and its own digest, so no decision it makes is
        recorded under the digest of files it was not decided by.

        Args:
            vocabulary: the vocabulary to use instead, if any.
            settings: the settings to use instead, if any.

        Returns:
            The variant.
        """
        variant = copy.copy(self)
        if vocabulary is not None:
            variant.vocabulary = vocabulary
        if settings is not None:
            variant.settings = settings
        changed = json.dumps(
            {
                "vocabulary": variant.vocabulary.model_dump(mode="json"),
                "settings": variant.settings.model_dump(mode="json"),
            },
            sort_keys=True,
        )
        hasher = hashlib.sha256(f"{self.digest}\0{changed}".encode())
        variant.digest = "sha256:" + hasher.hexdigest()
        variant.compiled = CompiledPolicy(variant)
        return variant

    def __repr__(self) -> str:
        """Name, directory and digest."""
        return (
            f"Policy(name={self.name!r}, directory={str(self.directory)!r}, digest={self.digest!r})"
        )

    def words(self, rule: str) -> str:
        """The plain words a reader sees for a rule (the rule id if none are written)."""
        return self.rule_words.get(rule, rule)

    def binding_rows(self, facts: frozenset[str], view: View) -> tuple[PolicyRow, ...]:
        """The view rows that fixed `view` for these facts: the reasons.

        The rows are the matching deny rows whose cap is `view`, and, when no
        cap sets it, the matching allow rows that grant exactly `view`.

        Args:
            facts: the facts of the decision.
            view: the view casbin decided.

        Returns:
            The rows, in file order; never empty for a decision casbin made.
        """
        caps = tuple(
            row
            for row in self.view_rows
            if row.effect == "deny" and row.view == view and row.matches(facts)
        )
        if caps:
            return caps
        return tuple(
            row
            for row in self.view_rows
            if row.effect == "allow" and row.view == view and row.matches(facts)
        )

    def caps_added(self, base: frozenset[str], extra: frozenset[str]) -> bool:
        """Whether `extra` facts make a deny row below `full` hold that `base` did not.

        This judges a portion's or subject's marking: its handling must not cap
        the reader below `full`. Cached by the two fact sets.

        Args:
            base: the reader's facts without the marking.
            extra: the facts the marking's handling adds.

        Returns:
            True when some cap below `full` now applies.
        """
        key = (base, extra)
        cached = self._caps_added.get(key)
        if cached is None:
            both = base | extra
            cached = any(
                row.effect == "deny"
                and row.view < View.FULL
                and row.matches(both)
                and not row.matches(base)
                for row in self.view_rows
            )
            self._caps_added[key] = cached
        return cached

    def matching_rows(self, facts: frozenset[str]) -> tuple[PolicyRow, ...]:
        """Every view row whose condition holds for these facts (for `explain`)."""
        return tuple(row for row in self.view_rows if row.matches(facts))

    def content_rows_for(self, view: View, facts: frozenset[str]) -> tuple[PolicyRow, ...]:
        """The content rows that match a portion's facts at a view."""
        return tuple(row for row in self.content_rows if row.view == view and row.matches(facts))


def load_policy(directory: str | Path | None = None) -> Policy:
    """Load a profile directory (the embedded default when None).

    Args:
        directory: a directory holding `model.conf`, `policy.csv` and `profile.yaml`.

    Returns:
        The loaded policy.

    Raises:
        PolicyError: the directory or one of its files is missing or malformed.
    """
    if directory is None:
        return default_policy()
    return Policy(Path(directory))


@cache
def default_policy() -> Policy:
    """The embedded default (UK) profile, loaded once per process."""
    return Policy(DEFAULT_POLICY_DIR)


@cache
def default_vocabulary() -> Vocabulary:
    """The default profile's vocabulary, read without loading casbin."""
    return _read_profile(DEFAULT_POLICY_DIR / "profile.yaml").vocabulary


def rules_in(rows: Iterable[PolicyRow]) -> tuple[str, ...]:
    """The rule ids of some rows, in order."""
    return tuple(row.rule for row in rows)
