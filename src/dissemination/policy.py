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

Every file is read strictly, and each problem is a `PolicyError` naming file
and line:

- `model.conf` must be the library's casbin model (`engine.MODEL`), compared
  after whitespace and comments: the model fixes what a row means, so the
  customisation surface is `policy.csv` and `profile.yaml`;
- rows are parsed with their line numbers and checked before casbin sees them:
  an unknown ptype, a wrong number of fields, an unknown view, effect or fact,
  or a repeated rule id (casbin would silently drop or misread such rows, and a
  mistyped deny row that never matches would fail open);
- `profile.yaml` may not repeat a key at any level (the last value would win
  unseen), and its vocabulary may not hold two terms that differ only in case.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dissemination.compiled import CompiledPolicy
from dissemination.engine import (
    CasbinEngine,
    EngineFailure,
    condition_holds,
    model_problems,
    parse_condition,
)
from dissemination.errors import InputError, PolicyError
from dissemination.facts import fact_names
from dissemination.parsing import parse_yaml_node, read_text
from dissemination.stix.profile import StixTables
from dissemination.vocabulary import View, Vocabulary, vocabulary_problems

__all__ = [
    "DEFAULT_POLICY_DIR",
    "POLICY_FILES",
    "Policy",
    "PolicyRow",
    "ProfileSettings",
    "RowProblem",
    "check_model",
    "default_policy",
    "default_vocabulary",
    "load_policy",
    "profile_problems",
    "read_rows",
]

DEFAULT_POLICY_DIR = Path(__file__).parent / "policies" / "default"
"""The embedded default (UK) profile."""

POLICY_FILES = ("model.conf", "policy.csv", "profile.yaml")
"""The files of a profile that decide; the policy digest covers exactly these."""

_ARITY = {"p": 5, "p2": 4}
_EFFECTS = ("allow", "deny")
_VIEW_LABELS = {view.label: view for view in View}


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
        """Whether the row's condition holds for these facts (the matcher's `holds`)."""
        return condition_holds(self.needed, self.forbidden, facts)

    @property
    def location(self) -> str:
        """`path:line`, for messages."""
        return f"{self.path}:{self.line}"


class ProfileSettings(BaseModel):
    """Switches of a profile (`settings:` in `profile.yaml`).

    Attributes:
        require_signed_labels: when true, an item whose label signature is
            missing or does not verify is shown to nobody.
        registry_admin_role: the role that may transfer, renew and release any
            claim in the ownership registry (and read any history); None: nobody.
        registry_auditor_role: the role that may read any subject's registry
            history; None: nobody beyond the owner's organisation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    require_signed_labels: bool = False
    registry_admin_role: str | None = Field(default=None, min_length=1)
    registry_auditor_role: str | None = Field(default=None, min_length=1)


class _ProfileFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    vocabulary: Vocabulary
    settings: ProfileSettings = ProfileSettings()
    rules: dict[str, str] = {}
    stix: StixTables | None = None  # STIX mapping tables, checked against `vocabulary`


def _read_text(path: Path) -> str:
    # The document reader (regular files only: a FIFO is refused, not waited on),
    # as bytes, so rows are read as casbin reads them. Raised unchained.
    try:
        return read_text(path)
    except InputError as exc:
        failure = exc
    if failure.detail == "no such file":
        raise PolicyError("policy file is missing", path=str(path))
    if failure.detail == "not UTF-8 text":
        line = _first_undecodable_line(path)
        raise PolicyError("policy file is not UTF-8", path=str(path), line=line)
    raise PolicyError(f"policy file is unreadable ({failure.detail})", path=str(path))


def _first_undecodable_line(path: Path) -> int | None:
    """The line of the first byte that is not UTF-8 (read again: the file is refused anyway)."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.object[: exc.start].count(b"\n") + 1
    except OSError:
        return None
    return None


def _read_profile(path: Path) -> _ProfileFile:
    return _parse_profile(path, _read_text(path))


def _parse_profile(path: Path, text: str) -> _ProfileFile:
    profile, problems = profile_problems(path, text)
    if profile is None:
        first = problems[0]
        raise PolicyError(first.message, path=str(path), line=first.line)
    return profile


def _node_at(node: yaml.Node | None, loc: Iterable[int | str]) -> yaml.Node | None:
    """The deepest YAML node along a pydantic error location (for its line)."""
    current = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    child = key_node if isinstance(value_node, yaml.ScalarNode) else value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            break
        current = child
    return current


def _line_at(node: yaml.Node | None, loc: Iterable[int | str]) -> int | None:
    found = _node_at(node, loc)
    return None if found is None else found.start_mark.line + 1


def profile_problems(path: Path, text: str) -> tuple[_ProfileFile | None, list[RowProblem]]:
    """Read `profile.yaml` strictly, collecting every problem with its line.

    A key repeated in any mapping, YAML that does not parse, a field the
    profile does not have or of the wrong kind, and every vocabulary
    inconsistency (`vocabulary.vocabulary_problems`: a term twice or in two
    cases, a vetting level the scale lacks) is a problem. Loading raises the
    first; lint reports them all.

    Args:
        path: the file, for messages.
        text: its content, as read.

    Returns:
        The profile (None when there is any problem) and the problems.
    """
    try:  # the document parser: no crash on any text, nothing quoted or chained
        data, root = parse_yaml_node(text, source="")
    except InputError as exc:
        line = (exc.source or "").lstrip(":")
        problem = exc.detail.replace("not valid YAML", "profile is not valid YAML")
        return None, [RowProblem(int(line) if line.isdigit() else None, problem)]
    try:
        return _ProfileFile.model_validate(data), []
    except PydanticValidationError as exc:
        problems: list[RowProblem] = []
        for error in exc.errors(include_url=False, include_input=False):
            loc = tuple(error["loc"])
            raw = data.get("vocabulary") if isinstance(data, dict) else None
            if loc == ("vocabulary",) and error["type"] == "value_error" and isinstance(raw, dict):
                problems.extend(
                    RowProblem(_line_at(root, ("vocabulary", *found.loc)), found.message)
                    for found in vocabulary_problems(raw)
                )
                continue
            message = str(error["msg"]).removeprefix("Value error, ").lower()
            shown = [str(part) for part in loc]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
                shown[-1:] = ["?"]  # not a term of any profile: may be content; the line says
            where = ".".join(shown) or "profile"
            problems.append(RowProblem(_line_at(root, loc), f"`{where}`: {message}"))
        return None, problems


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with a line of `policy.csv`.

    Attributes:
        line: the 1-based line number (None when no line can be named).
        message: one lowercase line naming the problem.
        fact: for an unknown fact, the fact's name (lint words it its own way).
    """

    line: int | None
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
    view = _VIEW_LABELS.get(named["view"])
    if view is None:
        try:
            view = View.parse(named["view"])
        except ValueError:
            problems.append(f"unknown view `{named['view']}`")
        else:  # casbin compares views exactly as written
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
                        view=_VIEW_LABELS[named["view"]],
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


def check_model(path: Path, text: str) -> None:
    """Refuse a `model.conf` that is not the library's casbin model.

    Args:
        path: the `model.conf` file, for messages.
        text: its content.

    Raises:
        PolicyError: the first difference (`engine.model_problems`), with its
            line and the section it is in.

    The library's promises rest on the model: with `!some(where (p.eft ==
    deny))` alone an unmatched request is allowed, a matcher without its deny
    branch ignores every cap, and the derived evaluator, diff, lint and the
    fact space all read rows by this one meaning. A profile changes rows
    (`policy.csv`) and vocabulary (`profile.yaml`), never the model.
    """
    problems = model_problems(text)
    if problems:
        first = problems[0]
        raise PolicyError(first.message, path=str(path), line=first.line)


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
        check_model(directory / "model.conf", texts["model.conf"])
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
        self.engine = CasbinEngine(texts["policy.csv"], counts, source=directory)
        self.view_rows = tuple(row for row in self.rows if row.ptype == "p")
        self.content_rows = tuple(row for row in self.rows if row.ptype == "p2")
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

    def decide_facts(self, facts: frozenset[str]) -> tuple[View, tuple[PolicyRow, ...]]:
        """The view for a set of facts and the rows that fixed it (the reasons).

        Answered by the derived evaluator (`compiled.RowTable`), which reads
        the rows by the library's model and is proven equal to casbin.

        Args:
            facts: the facts of the decision.

        Returns:
            (the view, the binding rows in file order).

        Raises:
            EngineFailure: the evaluator raised (`decide` fails closed on it).
        """
        return self.decide_bits(self.compiled.facts.of(facts))

    def decide_bits(self, bits: int) -> tuple[View, tuple[PolicyRow, ...]]:
        """`decide_facts` of a set of facts given as this policy's fact bits.

        Raises:
            EngineFailure: the evaluator raised (`decide` fails closed on it).
        """
        try:
            return self.compiled.rows.decide(bits)
        except Exception as exc:  # fail closed: whatever the evaluator raises
            raise EngineFailure(type(exc).__name__) from exc

    def shows(self, view: View, facts: frozenset[str]) -> bool:
        """Whether the content rows show a portion or subject with these facts at `view`.

        Raises:
            EngineFailure: the evaluator raised (`decide` fails closed on it).
        """
        compiled = self.compiled
        try:
            return compiled.rows.shows(view, compiled.facts.of(facts))
        except Exception as exc:  # fail closed: whatever the evaluator raises
            raise EngineFailure(type(exc).__name__) from exc

    def binding_rows(self, facts: frozenset[str], view: View) -> tuple[PolicyRow, ...]:
        """The view rows that fixed `view` for these facts: the reasons.

        The rows are the matching deny rows whose cap is `view`, and, when no
        cap sets it, the matching allow rows that grant exactly `view`.

        Args:
            facts: the facts of the decision.
            view: the view decided.

        Returns:
            The rows, in file order.
        """
        matching = self.matching_rows(facts)
        caps = tuple(row for row in matching if row.effect == "deny" and row.view == view)
        return caps or tuple(row for row in matching if row.effect == "allow" and row.view == view)

    def caps_added(self, base: frozenset[str], extra: frozenset[str]) -> bool:
        """Whether `extra` facts make a deny row below `full` hold that `base` did not.

        This judges a portion's or subject's marking: its handling must not cap
        the reader below `full` (`compiled.RowTable.caps_added`, kept).

        Args:
            base: the reader's facts without the marking.
            extra: the facts the marking's handling adds.

        Returns:
            True when some cap below `full` now applies.
        """
        of = self.compiled.facts.of
        return self.compiled.caps_added(of(base), of(extra))

    def matching_rows(self, facts: frozenset[str]) -> tuple[PolicyRow, ...]:
        """Every view row whose condition holds for these facts (for `explain`)."""
        return self.compiled.rows.matching(self.compiled.facts.of(facts))

    def content_rows_for(self, view: View, facts: frozenset[str]) -> tuple[PolicyRow, ...]:
        """The content rows that match a portion's facts at a view."""
        return self.compiled.rows.content_matching(view, self.compiled.facts.of(facts))


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
