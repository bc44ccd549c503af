"""Lint a policy directory: every finding, one line each, with file and line.

Unlike loading (which stops at the first problem), lint parses leniently and
reports all it finds:

- `malformed-row` (error): an unknown row type, a wrong number of fields, an
  empty rule id or condition, an unknown effect or view, `none` where only a
  deny row may name it, a repeated rule id;
- `unknown-fact` (error): a fact no vocabulary term gives (`vetting.at_least.TS`
  when `TS` is not a vetting level);
- `never-matches` (error): a row no reachable set of facts satisfies (a fact
  and its negation, two employment types, `!vetting.at_least.BPSS &
  vetting.at_least.SC`): a deny row that never matches fails open;
- `shadowed` (warning): a row that never changes a view, obligation or
  content decision because other rows always decide the same without it;
- `not-analysed` (warning): shadowing could not be judged within lint's
  budget (`SIGNATURE_BUDGET` row signatures), and for how many rows;
- `vocabulary` (error): `profile.yaml` does not load, each problem reported
  by the loader's own checks (`policy.profile_problems`): a repeated key, a
  term given twice or in two cases, a classification that needs a vetting
  level not in the scale;
- `rule-words` (warning): a rule without words for readers in
  `profile.yaml`, or words for a rule that does not exist;
- `model`, `model-effect` (error): `model.conf` is not the library's casbin
  model (each differing section, with its line);
- `load` (error): the directory does not load.

Shadowing and never-matching are judged over the whole reachable fact space
(`factspace`) under the standard model: a view is allowed when a matching
allow row grants it and no matching deny row caps below it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dissemination.engine import model_problems
from dissemination.errors import PolicyError
from dissemination.facts import fact_names
from dissemination.policy import PolicyRow, load_policy, profile_problems, read_rows
from dissemination.tooling.diff import _masks
from dissemination.tooling.factspace import FactSpace
from dissemination.vocabulary import View, Vocabulary

__all__ = ["Finding", "lint_policy"]

_ARITY = {"p": 5, "p2": 4}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem lint found.

    Attributes:
        code: the kind of finding (`never-matches`).
        severity: `error` or `warning`.
        path: the file.
        line: the 1-based line, when the finding is on one line.
        message: one lowercase line.
    """

    code: str
    severity: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        """`path:line: severity: message [code]`."""
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _read_utf8(path: Path) -> str:
    """A policy file's text, bytes as they are: a FIFO or device is refused, not waited on."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read().decode("utf-8")


def _profile(directory: Path, findings: list[Finding]) -> tuple[Vocabulary | None, dict[str, str]]:
    """The profile's vocabulary and rule words, by the loader's own checks (all reported)."""
    path = directory / "profile.yaml"
    try:
        text = _read_utf8(path)
    except FileNotFoundError:
        findings.append(Finding("load", "error", str(path), None, "profile is missing"))
        return None, {}
    except (OSError, UnicodeDecodeError) as exc:
        message = f"profile cannot be read ({type(exc).__name__})"
        findings.append(Finding("load", "error", str(path), None, message))
        return None, {}
    profile, problems = profile_problems(path, text)
    findings.extend(
        Finding("vocabulary", "error", str(path), problem.line, problem.message)
        for problem in problems
    )
    if profile is None:
        return None, {}
    return profile.vocabulary, dict(profile.rules)


def _unknown_fact(fact: str, vocabulary: Vocabulary) -> str:
    for prefix, terms, what in (
        ("vetting.at_least.", vocabulary.vetting_levels, "vetting level"),
        ("employment.", vocabulary.employment, "employment type"),
        ("category.", vocabulary.portion_categories, "portion category"),
    ):
        if fact.startswith(prefix) and fact.removeprefix(prefix) not in terms:
            term = fact.removeprefix(prefix)
            return f"unknown fact `{fact}`: `{term}` is not a {what} of the profile"
    return f"unknown fact `{fact}`"


def _rows(
    path: Path,
    vocabulary: Vocabulary | None,
    findings: list[Finding],
    dropped: dict[str, tuple[int, str]] | None = None,
) -> list[PolicyRow]:
    """The rows that parse; `dropped` receives each rule left out for an unknown fact."""
    try:
        # Bytes, not read_text: casbin sees no newline translation, and neither may we.
        text = _read_utf8(path)
    except (OSError, UnicodeDecodeError) as exc:
        message = f"policy cannot be read ({type(exc).__name__})"
        findings.append(Finding("load", "error", str(path), None, message))
        return []
    known = fact_names(vocabulary) if vocabulary is not None else None
    rows, problems = read_rows(path, text, known)
    for problem in problems:
        if problem.fact is not None and vocabulary is not None:
            message = _unknown_fact(problem.fact, vocabulary)
            findings.append(Finding("unknown-fact", "error", str(path), problem.line, message))
            if dropped is not None and problem.line is not None:
                fields = text.splitlines()[problem.line - 1].split(",")
                if len(fields) > 1:
                    dropped.setdefault(fields[1].strip(), (problem.line, problem.fact))
        else:
            findings.append(
                Finding("malformed-row", "error", str(path), problem.line, problem.message)
            )
    return rows


SIGNATURE_BUDGET = 100_000
"""The most distinct row signatures lint enumerates to judge shadowing."""

SIGNATURE_BITS_BUDGET = 100_000_000
"""The most signature bits (signatures x view rows) lint holds while enumerating.

Beyond either budget (a large policy whose rows tell many readers apart),
shadowing is not judged, and lint says so in a `not-analysed` finding rather
than staying silent. Never-matching is judged exactly at any size. The two
keep lint of 50,000 rows within seconds and a few hundred megabytes
(benchmarks/lint_bench.py).
"""


def signature_budget(rows: int) -> int:
    """How many signatures lint enumerates for a policy of `rows` view rows."""
    return min(SIGNATURE_BUDGET, SIGNATURE_BITS_BUDGET // max(1, rows))


class _RowMasks:
    """The view rows as bitmasks by effect, view and obligation (bit `i`: row `i`)."""

    def __init__(self, rows: list[PolicyRow]) -> None:
        self.allow = dict.fromkeys(View, 0)
        self.deny = dict.fromkeys(View, 0)
        self.obligations: dict[str, int] = {}
        for bit, row in enumerate(rows):
            table = self.allow if row.effect == "allow" else self.deny
            table[row.view] |= 1 << bit
            key = row.obligation or ""
            self.obligations[key] = self.obligations.get(key, 0) | 1 << bit

    def obligations_of(self, rows: int) -> frozenset[str]:
        return frozenset(key for key, mask in self.obligations.items() if rows & mask)

    def unique_by_obligation(self, rows: int) -> int:
        """The rows of `rows` whose obligation no other row of `rows` has."""
        unique = 0
        for mask in self.obligations.values():
            same = rows & mask
            if same.bit_count() == 1:
                unique |= same
        return unique

    def essential(self, signature: int) -> int:
        """The rows of a signature whose removal changes its view or obligations.

        By `compiled.view_of`: the view is the lower of the best grant `G` and
        the lowest cap `C`; the binding rows are the deny rows at the view, or
        else the allow rows at it. Only the rows at `G`, at `C` and the binding
        rows can change anything when removed.
        """
        grants = [view for view in View if signature & self.allow[view]]
        caps = [view for view in View if signature & self.deny[view]]
        grant = grants[-1] if grants else View.NONE
        view = min(grant, caps[0] if caps else View.FULL)
        essential = 0
        binding = signature & self.deny[view]
        if binding:
            if binding.bit_count() == 1:
                if grant > view:
                    essential |= binding  # the next cap (or the grant) is higher
                elif view is not View.NONE and self.obligations_of(binding) != (
                    self.obligations_of(signature & self.allow[view])
                ):
                    essential |= binding  # the allow rows then bind, with other obligations
            elif view is not View.NONE:
                essential |= self.unique_by_obligation(binding)
            top = signature & self.allow[grant]
            if grants and top.bit_count() == 1:
                below = grants[-2] if len(grants) > 1 else View.NONE
                if below < view:
                    essential |= top  # the grant falls below the cap
            return essential
        binding = signature & self.allow[view]
        if binding.bit_count() == 1:
            return binding  # the next grant is lower
        return self.unique_by_obligation(binding) if view is not View.NONE else 0


def _view_rows(rows: list[PolicyRow], vocabulary: Vocabulary) -> Iterator[Finding]:
    view_rows = [row for row in rows if row.ptype == "p"]
    relevant = frozenset(fact for row in view_rows for fact in row.needed | row.forbidden)
    space = FactSpace(vocabulary, relevant=relevant)
    base, masks = _masks(space, view_rows)
    matchable = base
    for per_value in masks:
        anywhere = 0
        for mask in per_value:
            anywhere |= mask
        matchable &= anywhere
    budget = signature_budget(len(view_rows))
    signatures: set[int] | None = {base}
    for per_value in masks:
        assert signatures is not None  # noqa: S101 (set until the budget runs out)
        signatures = {signature & mask for signature in signatures for mask in per_value}
        if len(signatures) > budget:
            signatures = None
            break
    essential = 0
    if signatures is not None:
        table = _RowMasks(view_rows)
        for signature in signatures:
            essential |= table.essential(signature)
    not_analysed = 0
    for index, row in enumerate(view_rows):
        if row.needed & row.forbidden:
            fact = sorted(row.needed & row.forbidden)[0]
            yield Finding(
                "never-matches",
                "error",
                row.path,
                row.line,
                f"`{row.rule}` needs `{fact}` and its negation",
            )
        elif not matchable >> index & 1:
            yield Finding(
                "never-matches",
                "error",
                row.path,
                row.line,
                f"`{row.rule}` can never match: no reader and item give `{row.when}`",
            )
        elif signatures is None:
            not_analysed += 1
        elif not essential >> index & 1:
            yield Finding(
                "shadowed",
                "warning",
                row.path,
                row.line,
                f"`{row.rule}` never changes a decision: other rows decide the same "
                "wherever it matches",
            )
    if not_analysed:
        yield Finding(
            "not-analysed",
            "warning",
            view_rows[0].path,
            None,
            f"shadowing of {not_analysed} view rows was not analysed: their conditions "
            f"tell more than {budget} classes of readers and items apart "
            "(never-matching was checked for every row)",
        )


def _content_rows(rows: list[PolicyRow], vocabulary: Vocabulary) -> Iterator[Finding]:
    content = [row for row in rows if row.ptype == "p2"]
    spaces = [frozenset({"subject"})]
    for category in vocabulary.portion_categories:
        spaces.append(frozenset({f"category.{category}"}))
        spaces.append(frozenset({f"category.{category}", "category.sanitise_requested"}))

    def shows(candidates: list[PolicyRow], view: View, facts: frozenset[str]) -> bool:
        matching = [row for row in candidates if row.view == view and row.matches(facts)]
        return any(row.effect == "allow" for row in matching) and not any(
            row.effect == "deny" for row in matching
        )

    for row in content:
        points = [facts for facts in spaces if row.matches(facts)]
        if not points:
            yield Finding(
                "never-matches",
                "error",
                row.path,
                row.line,
                f"`{row.rule}` can never match: no portion or subject gives `{row.when}`",
            )
            continue
        others = [other for other in content if other is not row]
        if all(
            shows(content, row.view, facts) == shows(others, row.view, facts) for facts in points
        ):
            yield Finding(
                "shadowed",
                "warning",
                row.path,
                row.line,
                f"`{row.rule}` never changes what a view shows: other rows decide the same",
            )


def _words(
    rows: list[PolicyRow],
    words: dict[str, str],
    path: Path,
    dropped: dict[str, tuple[int, str]] | None = None,
) -> Iterator[Finding]:
    rules = {row.rule for row in rows}
    for row in rows:
        if row.rule not in words:
            yield Finding(
                "rule-words",
                "warning",
                row.path,
                row.line,
                f"`{row.rule}` has no words for readers under `rules` in profile.yaml",
            )
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for rule in sorted(set(words) - rules):
        yield Finding(
            "rule-words",
            "warning",
            str(path),
            _line_of(text, f"{rule}:"),
            f"words for `{rule}`, whose row at policy.csv:{dropped[rule][0]} names "
            f"unknown fact `{dropped[rule][1]}`"
            if dropped and rule in dropped
            else f"words for `{rule}`, which is not a rule of policy.csv",
        )


def _model(path: Path) -> Iterator[Finding]:
    """The model must be the library's (`engine.MODEL`): each difference, with its section."""
    try:
        text = _read_utf8(path)
    except (OSError, UnicodeDecodeError) as exc:
        yield Finding(
            "load", "error", str(path), None, f"model cannot be read ({type(exc).__name__})"
        )
        return
    for problem in model_problems(text):
        code = "model-effect" if problem.section == "policy_effect" else "model"
        yield Finding(code, "error", str(path), problem.line, problem.message)


# Facts that mean the library cannot vouch for a label or a reader: a profile
# without a deny row capping each one at `none` fails open (DESIGN §5).
_FAIL_CLOSED_FACTS = ("reader.invalid", "label.invalid", "label.integrity_failed",
                      "label.unknown_handling")  # fmt: skip


def _fail_closed(rows: list[PolicyRow], path: Path) -> Iterator[Finding]:
    """A warning for each fail-closed fact no unconditional `none` deny row caps."""
    for fact in _FAIL_CLOSED_FACTS:
        if not any(
            row.ptype == "p"
            and row.effect == "deny"
            and row.view == View.NONE
            and row.needed == {fact}
            and not row.forbidden
            for row in rows
        ):
            message = f"no deny row caps `{fact}` at `none`: such items or readers fail open"
            yield Finding("fail-open", "warning", str(path), None, message)


_PROFILE_FILES = ("model.conf", "policy.csv", "profile.yaml")


def lint_policy(directory: str | Path) -> list[Finding]:
    """Lint a policy directory.

    Args:
        directory: the profile directory (`model.conf`, `policy.csv`, `profile.yaml`).

    Returns:
        Every finding, errors and warnings, in file and line order.

    Raises:
        PolicyError: the directory does not exist, or holds none of the three files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError("policy directory does not exist", path=str(directory))
    if not any((directory / name).exists() for name in _PROFILE_FILES):
        raise PolicyError(
            "not a policy directory: no model.conf, policy.csv or profile.yaml",
            path=str(directory),
        )
    findings: list[Finding] = []
    # Load first: a profile that loads is parsed once (rows, vocabulary, words);
    # one that does not is read again leniently, so every problem is reported.
    refusal: PolicyError | None = None
    dropped: dict[str, tuple[int, str]] = {}  # rule -> (line, fact) of rows not read
    try:
        policy = load_policy(directory)
    except PolicyError as exc:
        refusal = exc
        vocabulary, words = _profile(directory, findings)
        rows = _rows(directory / "policy.csv", vocabulary, findings, dropped)
    else:
        vocabulary, words, rows = policy.vocabulary, policy.rule_words, list(policy.rows)
    if vocabulary is not None:
        findings.extend(_view_rows(rows, vocabulary))
        findings.extend(_content_rows(rows, vocabulary))
        findings.extend(_words(rows, words, directory / "profile.yaml", dropped))
        findings.extend(_fail_closed(rows, directory / "policy.csv"))
    findings.extend(_model(directory / "model.conf"))
    if refusal is not None and not any(finding.severity == "error" for finding in findings):
        findings.append(Finding("load", "error", refusal.path, refusal.line, refusal.detail))
    return sorted(findings, key=lambda finding: (finding.path, finding.line or 0, finding.code))
