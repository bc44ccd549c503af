"""The policy tooling commands: test, lint, diff, who-can-see, what-can-see, explain.

`test`, `lint` and `diff` exit 1 when they find something (a failed case, an
error finding, a change); bad input is exit 2 with a one-line error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from dissemination.cli._common import now_option, parse_now, policy_option, resolve_policy
from dissemination.cli._integrity import label_check, trust_option
from dissemination.decision import Decision
from dissemination.loading import iter_items, load_item, load_principal, load_principals
from dissemination.models import Item, Principal
from dissemination.policy import load_policy
from dissemination.tooling.coverage import measure_coverage
from dissemination.tooling.diff import PolicyDiff, diff_policies
from dissemination.tooling.lint import Finding, lint_policy
from dissemination.tooling.runner import format_failure, junit_xml, run_cases
from dissemination.tooling.verify import verify_policy
from dissemination.tooling.whocansee import corpus_changes, explain, what_can_see, who_can_see

__all__ = ["diff", "explain_command", "lint", "test", "what_can_see_command", "who_can_see_command"]

EXIT_FINDINGS = 1


def _decision_table(first: str, pairs: Sequence[tuple[Principal | Item, Decision]]) -> str:
    """Id, view and the rules that fixed it: ids and names only, never content."""
    rows = [[first, "view", "why"]]
    rows += [[who.id, d.view.label, ", ".join(d.rules) or "-"] for who, d in pairs]
    return _table(rows)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@click.command()
@click.argument("cases", nargs=-1, required=True, type=click.Path(path_type=Path))
@policy_option
@now_option
@click.option(
    "--junit-xml",
    "junit_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Also write the results as JUnit XML to FILE.",
)
@click.option(
    "--coverage",
    "show_coverage",
    is_flag=True,
    help="Report row and fact coverage, and list the rows no case exercised.",
)
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    default=None,
    help="Fail when row coverage is below PCT percent.",
)
def test(
    *,
    cases: tuple[Path, ...],
    policy_dir: Path | None,
    now_text: str | None,
    junit_path: Path | None,
    show_coverage: bool,
    min_coverage: float | None,
) -> None:
    """Run policy test cases (files, or directories of *.policy.yaml).

    Each failure is printed with its file and line, expected and actual; the
    last line is `N passed, M failed`. Exit 1 on any failure.
    """
    policy = resolve_policy(policy_dir) if policy_dir is not None else None
    now = parse_now(now_text) if now_text is not None else None
    report = run_cases(cases, policy=policy, now=now)
    for result in report.results:
        if not result.passed:
            click.echo(format_failure(result))
    if junit_path is not None:
        junit_path.write_text(junit_xml(report.results), encoding="utf-8")
    failed = report.failed > 0
    if show_coverage or min_coverage is not None:
        policies = {result.policy.directory: result.policy for result in report.results}
        for measured in policies.values():
            coverage = measure_coverage(report.results, measured)
            click.echo(coverage.summary)
            if show_coverage:
                for row in coverage.missed:
                    click.echo(f"  not exercised: {row.location}: `{row.rule}`")
                if coverage.facts_missed:
                    click.echo(f"  facts not exercised: {', '.join(coverage.facts_missed)}")
            if min_coverage is not None and coverage.percent < min_coverage:
                click.echo(f"row coverage {coverage.percent:.1f}% is below {min_coverage:g}%")
                failed = True
    click.echo(report.summary)
    if failed:
        raise SystemExit(EXIT_FINDINGS)


@click.command()
@click.argument("policy_dir", metavar="POLICY_DIR", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--verify",
    is_flag=True,
    help="Also ask casbin and the derived evaluator every point of the fact space "
    "and report any point where they differ (exit 1).",
)
def lint(policy_dir: Path, fmt: str, verify: bool) -> None:
    """Lint a policy directory: one line per finding with file and line; exit 1 on errors."""
    findings = lint_policy(policy_dir)
    summary = ""
    if verify and not any(finding.severity == "error" for finding in findings):
        verified = verify_policy(load_policy(policy_dir))
        summary = verified.summary()
        findings.extend(
            Finding("verify", "error", str(policy_dir / "policy.csv"), None, found.describe())
            for found in verified.disagreements
        )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "code": f.code,
                        "severity": f.severity,
                        "path": f.path,
                        "line": f.line,
                        "message": f.message,
                    }
                    for f in findings
                ],
                indent=2,
            )
        )
    else:
        for finding in findings:
            click.echo(str(finding))
        errors = sum(finding.severity == "error" for finding in findings)
        if summary:
            click.echo(summary)
        click.echo(f"{errors} errors, {len(findings) - errors} warnings")
    if any(finding.severity == "error" for finding in findings):
        raise SystemExit(EXIT_FINDINGS)


def _diff_json(result: PolicyDiff, corpus: list[Any]) -> dict[str, Any]:
    return {
        "identical": result.identical and not corpus,
        "space": {
            "points": result.space_size,
            "enumerated": result.points,
            "casbin_calls": result.casbin_calls,
            "marking_points": result.marking_points,
            "seconds": round(result.seconds, 3),
        },
        "profile_changes": list(result.profile_changes),
        "changes": [
            {
                "kind": change.kind,
                "statement": change.statement,
                "old": change.old,
                "new": change.new,
                "points": change.points,
                "cube": {
                    name: [repr(value) for value in values] for name, values in change.cube.items()
                },
                "confirmed": change.confirmed,
                "example": None
                if change.example is None
                else {
                    "reader": change.example.reader.model_dump(mode="json", exclude_none=True),
                    "item": change.example.item.model_dump(mode="json", exclude_none=True),
                    "now": change.example.now.isoformat(),
                    "note": change.example.note,
                },
            }
            for change in result.changes
        ],
        "corpus": [
            {"reader": c.reader, "item": c.item, "old": c.old, "new": c.new} for c in corpus
        ],
    }


def _example_words(change: Any) -> str:
    example = change.example
    reader, item = example.reader, example.item
    vetting = reader.vetting.level if reader.vetting else "no"
    handling = ", ".join(rule.kind for rule in item.handling) or "no handling"
    words = (
        f"e.g. reader {reader.organisation}/{reader.employment}/{vetting} vetting, "
        f"item {item.classification} requiring {item.required_vetting} from "
        f"{item.originator.organisation} with {handling}"
    )
    if example.note:
        words += f" ({example.note})"
    return words


@click.command()
@click.argument("old_dir", metavar="OLD_DIR", type=click.Path(path_type=Path))
@click.argument("new_dir", metavar="NEW_DIR", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(path_type=Path),
    metavar="ITEMS",
    help="Also list the real items (directory or JSON Lines) whose decisions change.",
)
@click.option(
    "--readers",
    "readers_path",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The real readers for --corpus.",
)
@click.option(
    "--verify", is_flag=True, help="Also ask casbin at every distinct row signature (slower)."
)
@now_option
def diff(
    *,
    old_dir: Path,
    new_dir: Path,
    fmt: str,
    corpus_path: Path | None,
    readers_path: Path | None,
    verify: bool,
    now_text: str | None,
) -> None:
    """Compare two policy directories over the whole fact space; exit 1 when anything changes."""
    if (corpus_path is None) != (readers_path is None):
        raise click.UsageError("--corpus and --readers go together")
    old, new = load_policy(old_dir), load_policy(new_dir)
    result = diff_policies(old, new, verify=verify)
    corpus = []
    if corpus_path is not None and readers_path is not None:
        corpus = corpus_changes(
            old,
            new,
            load_principals(readers_path, policy=new),
            list(iter_items(corpus_path, policy=new)),
            now=parse_now(now_text),
        )
    if fmt == "json":
        click.echo(json.dumps(_diff_json(result, corpus), indent=2, ensure_ascii=False))
    else:
        for line in result.profile_changes:
            click.echo(f"profile: {line}")
        for change in result.changes:
            confirmed = "" if change.confirmed is not False else " (example not confirmed)"
            click.echo(f"- {change.statement}{confirmed}")
            if change.example is not None:
                click.echo(f"    {_example_words(change)}")
        for entry in corpus:
            click.echo(f"corpus: {entry.reader} / {entry.item}: {entry.old} -> {entry.new}")
        decision_changes = sum(change.kind == "decision" for change in result.changes)
        click.echo(
            f"{decision_changes} decision changes, "
            f"{len(result.changes) - decision_changes} marking changes, "
            f"{len(result.profile_changes)} profile changes over {result.points} points "
            f"({result.space_size} in the full fact space) in {result.seconds:.2f}s"
        )
    if not result.identical or corpus:
        raise SystemExit(EXIT_FINDINGS)


def _decision_json(kind: str, pairs: Sequence[tuple[Principal | Item, Decision]]) -> str:
    """The table as JSON: ids, views and rule ids only, never content."""
    rows = [
        {kind: who.id, "view": decision.view.label, "rules": list(decision.rules)}
        for who, decision in pairs
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@click.command("who-can-see")
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@click.option(
    "--readers",
    "readers_path",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="A directory of reader files.",
)
@policy_option
@now_option
@_FORMAT
@trust_option
def who_can_see_command(
    *, item_path: Path, readers_path: Path, policy_dir: Path | None, now_text: str | None, fmt: str
) -> None:
    """Which view each reader in DIR gets of ITEM, as a table (or JSON)."""
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    item = load_item(item_path, policy=policy)
    readers = load_principals(readers_path, policy=policy)
    pairs = who_can_see(item, readers, now=now, policy=policy, label_check=label_check(policy))
    click.echo(
        _decision_json("reader", pairs) if fmt == "json" else _decision_table("reader", pairs)
    )


@click.command("what-can-see")
@click.argument("reader_path", metavar="READER", type=click.Path(path_type=Path))
@click.option(
    "--items",
    "items_path",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="A directory of item files (or a JSON Lines file).",
)
@policy_option
@now_option
@_FORMAT
@trust_option
def what_can_see_command(
    *, reader_path: Path, items_path: Path, policy_dir: Path | None, now_text: str | None, fmt: str
) -> None:
    """Which view READER gets of each item in DIR, as a table (or JSON)."""
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    check = label_check(policy)
    pairs = what_can_see(
        reader, iter_items(items_path, policy=policy), now=now, policy=policy, label_check=check
    )
    table = _decision_json if fmt == "json" else _decision_table
    click.echo(table("item", pairs))


@click.command("explain")
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@click.option(
    "--as",
    "reader_path",
    required=True,
    type=click.Path(path_type=Path),
    metavar="READER",
    help="The reader (principal) file.",
)
@policy_option
@now_option
@_FORMAT
@trust_option
def explain_command(
    *, item_path: Path, reader_path: Path, policy_dir: Path | None, now_text: str | None, fmt: str
) -> None:
    """Why READER gets the view they get of ITEM: facts, matching rows, the cap, withheld parts."""
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    item = load_item(item_path, policy=policy)
    data = explain(
        reader, item, now=parse_now(now_text), policy=policy, label_check=label_check(policy)
    )
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{data['reader']} gets `{data['view']}` of {data['item']}")
    click.echo(f"facts: {', '.join(data['facts'])}")
    click.echo("rows that matched:")
    for row in data["matching_rows"]:
        click.echo(f"  {row['at']}: {row['rule']} ({row['effect']} {row['view']})")
    click.echo(f"base view: {data['base']}")
    cap = data["cap"]
    click.echo(f"cap: {cap['view']} by {', '.join(cap['rules'])}" if cap else "cap: none applies")
    for reason in data["reasons"]:
        click.echo(f"why: {reason['rule']}: {reason['text']}")
    for withheld in data["withheld"]:
        click.echo(
            f"withheld {withheld['kind']} {withheld['id']}: {withheld['rule']}: {withheld['why']}"
        )
