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

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dissemination.compiled import view_of
from dissemination.engine import model_problems
from dissemination.errors import PolicyError
from dissemination.facts import fact_names
from dissemination.policy import PolicyRow, load_policy, profile_problems, read_rows
from dissemination.tooling.diff import row_signatures
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


def _profile(directory: Path, findings: list[Finding]) -> tuple[Vocabulary | None, dict[str, str]]:
    """The profile's vocabulary and rule words, by the loader's own checks (all reported)."""
    path = directory / "profile.yaml"
    try:
        text = path.read_bytes().decode("utf-8")
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


def _rows(path: Path, vocabulary: Vocabulary | None, findings: list[Finding]) -> list[PolicyRow]:
    try:
        # Bytes, not read_text: casbin sees no newline translation, and neither may we.
        text = path.read_bytes().decode("utf-8")
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
        else:
            findings.append(
                Finding("malformed-row", "error", str(path), problem.line, problem.message)
            )
    return rows


def _view(rows: list[PolicyRow]) -> tuple[View, tuple[str, ...]]:
    view, binding = view_of(rows)
    return view, tuple(sorted({row.obligation or "" for row in binding}))


def _view_rows(rows: list[PolicyRow], vocabulary: Vocabulary) -> Iterator[Finding]:
    view_rows = [row for row in rows if row.ptype == "p"]
    relevant = frozenset(fact for row in view_rows for fact in row.needed | row.forbidden)
    space = FactSpace(vocabulary, relevant=relevant)
    signatures = {
        tuple(bool(mask >> bit & 1) for bit in range(len(view_rows)))
        for mask in row_signatures(space, view_rows)
    }
    decided: dict[tuple[bool, ...], tuple[View, tuple[str, ...]]] = {}
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
            continue
        matched = [signature for signature in signatures if signature[index]]
        if not matched:
            yield Finding(
                "never-matches",
                "error",
                row.path,
                row.line,
                f"`{row.rule}` can never match: no reader and item give `{row.when}`",
            )
            continue
        if all(_unchanged_without(view_rows, signature, index, decided) for signature in matched):
            yield Finding(
                "shadowed",
                "warning",
                row.path,
                row.line,
                f"`{row.rule}` never changes a decision: other rows decide the same "
                "wherever it matches",
            )


def _unchanged_without(
    rows: list[PolicyRow],
    signature: tuple[bool, ...],
    index: int,
    decided: dict[tuple[bool, ...], tuple[View, tuple[str, ...]]],
) -> bool:
    """Whether the rows of `signature` decide the same view and obligations without row `index`."""
    if signature not in decided:
        decided[signature] = _view([row for row, on in zip(rows, signature, strict=True) if on])
    view, obligations = decided[signature]
    without = [
        row for k, (row, on) in enumerate(zip(rows, signature, strict=True)) if on and k != index
    ]
    other_view, other_obligations = _view(without)
    return other_view == view and (other_obligations == obligations or view is View.NONE)


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


def _words(rows: list[PolicyRow], words: dict[str, str], path: Path) -> Iterator[Finding]:
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
            f"words for `{rule}`, which is not a rule of policy.csv",
        )


def _model(path: Path) -> Iterator[Finding]:
    """The model must be the library's (`engine.MODEL`): each difference, with its section."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield Finding(
            "load", "error", str(path), None, f"model cannot be read ({type(exc).__name__})"
        )
        return
    for problem in model_problems(text):
        code = "model-effect" if problem.section == "policy_effect" else "model"
        yield Finding(code, "error", str(path), problem.line, problem.message)


def lint_policy(directory: str | Path) -> list[Finding]:
    """Lint a policy directory.

    Args:
        directory: the profile directory (`model.conf`, `policy.csv`, `profile.yaml`).

    Returns:
        Every finding, errors and warnings, in file and line order.

    Raises:
        PolicyError: the directory does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError("policy directory does not exist", path=str(directory))
    findings: list[Finding] = []
    vocabulary, words = _profile(directory, findings)
    rows = _rows(directory / "policy.csv", vocabulary, findings)
    if vocabulary is not None:
        findings.extend(_view_rows(rows, vocabulary))
        findings.extend(_content_rows(rows, vocabulary))
    if vocabulary is not None:
        findings.extend(_words(rows, words, directory / "profile.yaml"))
    findings.extend(_model(directory / "model.conf"))
    if not any(finding.severity == "error" for finding in findings):
        try:
            load_policy(directory)
        except PolicyError as exc:
            findings.append(Finding("load", "error", exc.path, exc.line, exc.detail))
    return sorted(findings, key=lambda finding: (finding.path, finding.line or 0, finding.code))
