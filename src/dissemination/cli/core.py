"""The core commands: view, filter, schema, demo."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import click

from dissemination.bulk import filter_items
from dissemination.cli._common import (
    atomic_write_lines,
    dump_json,
    now_option,
    parse_now,
    policy_option,
    resolve_policy,
)
from dissemination.cli._integrity import (
    integrity_options,
    integrity_setup,
    label_check,
    trust_option,
)
from dissemination.decision import LabelCheck, decide
from dissemination.errors import InputError
from dissemination.loading import iter_items, load_item, load_principal, load_principals
from dissemination.models import Item
from dissemination.policy import Policy
from dissemination.redaction import render, render_text

__all__ = ["DEMO_DIR", "demo", "filter_command", "schema", "view"]

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo" / "humber"
"""The Humber ports scenario shipped with the package (`examples/humber` in the source tree)."""


@click.command()
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@click.option(
    "--as",
    "reader_path",
    required=True,
    metavar="READER",
    type=click.Path(path_type=Path),
    help="The reader (principal) file.",
)
@policy_option
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True
)
@click.option(
    "--explain", is_flag=True, help="Also print the facts, matching rows and withheld parts."
)
@now_option
@integrity_options
def view(
    *,
    item_path: Path,
    reader_path: Path,
    policy_dir: Path | None,
    fmt: str,
    explain: bool,
    now_text: str | None,
) -> None:
    """Show what READER may see of ITEM."""
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    item = load_item(item_path, policy=policy)
    integrity = integrity_setup(policy)
    decision = decide(reader, item, now=now, policy=policy, label_check=integrity.label_check)
    integrity.record(item, decision)  # before anything is shown
    if fmt == "json":
        document = render(item, decision)
        if explain:
            from dissemination.tooling.whocansee import explain_decision  # noqa: PLC0415

            document["explain"] = explain_decision(item, decision, policy)
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    text = render_text(item, decision)
    click.echo(text if text else "nothing to show\n", nl=False)
    if explain:
        from dissemination.tooling.whocansee import explain_decision  # noqa: PLC0415

        click.echo(
            json.dumps(explain_decision(item, decision, policy), ensure_ascii=False, indent=2)
        )


@click.command("filter")
@click.argument("items_path", metavar="ITEMS", type=click.Path(path_type=Path))
@click.option(
    "--as",
    "reader_path",
    required=True,
    metavar="READER",
    type=click.Path(path_type=Path),
    help="The reader (principal) file.",
)
@policy_option
@now_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Write to FILE, all or nothing under `--on-error stop` "
    "(default: stream to standard output).",
)
@click.option(
    "--on-error",
    "on_error",
    type=click.Choice(["stop", "skip"]),
    default="stop",
    show_default=True,
    help="At a record that cannot be read: stop (exit 2), or skip it and go on.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Write each rejected record's place (file and line) and error to FILE, never its content.",
)
@integrity_options
def filter_command(
    *,
    items_path: Path,
    reader_path: Path,
    policy_dir: Path | None,
    now_text: str | None,
    out_path: Path | None,
    on_error: str,
    rejects_path: Path | None,
) -> None:
    """Stream what READER may see of ITEMS as JSON Lines.

    ITEMS is a directory of item files, a JSON Lines file (recognised by its
    content, whatever its name), one item, or `-` for standard input. Items the
    reader sees at `none` are left out without trace. On standard output lines
    stream as they are decided; with `--out` the file appears only when every
    item was read (under `--on-error skip`, every readable one). A summary
    line on standard error says how many records were read, shown and
    rejected.
    """
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    integrity = integrity_setup(policy)
    rejected: list[str] = []
    counts = {"read": 0, "shown": 0}

    def reject(error: InputError) -> None:
        rejected.append(str(error))  # the place and the problem: never content

    def counted(items: Iterator[Item]) -> Iterator[Item]:
        for item in items:
            counts["read"] += 1
            yield item

    items = iter_items(items_path, policy=policy, on_error=reject if on_error == "skip" else None)
    views = filter_items(
        reader,
        counted(items),
        now=now,
        policy=policy,
        label_check=integrity.label_check,
        record=integrity.record,
    )

    def lines() -> Iterator[str]:
        for document in views:
            counts["shown"] += 1
            yield dump_json(document)

    try:
        if out_path is not None:
            atomic_write_lines(out_path, lines())
        else:
            for line in lines():
                click.echo(line)
    except InputError as exc:  # under `stop`: the record that stopped the stream
        rejected.append(str(exc))
        _finish_filter(counts, rejected, rejects_path, stopped=True)
        raise
    _finish_filter(counts, rejected, rejects_path, stopped=False)


def _finish_filter(
    counts: dict[str, int], rejected: list[str], rejects_path: Path | None, *, stopped: bool
) -> None:
    """Write the rejects file (all or nothing) and the summary line on standard error."""
    if rejects_path is not None:
        atomic_write_lines(rejects_path, rejected)
    total = counts["read"] + len(rejected)
    summary = f"filter: read {total}, shown {counts['shown']}, rejected {len(rejected)}"
    click.echo(summary + (" (stopped at the first rejected record)" if stopped else ""), err=True)


@click.command()
@click.argument("document", type=click.Choice(["item", "principal"]))
@policy_option
def schema(document: str, policy_dir: Path | None) -> None:
    """Print the JSON Schema of an item or a principal."""
    from dissemination.schema import json_schema  # noqa: PLC0415 (only this command needs it)

    policy = resolve_policy(policy_dir)
    click.echo(json.dumps(json_schema(document, policy=policy), indent=2))


def _demo_rows(
    policy: Policy, now: dt.datetime, check: LabelCheck | None
) -> Iterator[tuple[str, list[str]]]:
    readers = load_principals(DEMO_DIR / "readers", policy=policy)
    items = list(iter_items(DEMO_DIR / "items", policy=policy))
    yield "reader", [item.id for item in items]
    for reader in readers:
        yield (
            reader.id,
            [
                decide(reader, item, now=now, policy=policy, label_check=check).view.label
                for item in items
            ],
        )


DEMO_NOW = "2026-11-27T10:00:00Z"
"""The demo's default time: the scenario's, so the demo reads the same every day."""


@click.command()
@policy_option
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="TIME",
    help=f"Decide as of this time, ISO 8601 with a zone. Default: {DEMO_NOW}, "
    "the scenario's own time (not the clock).",
)
@trust_option
def demo(policy_dir: Path | None, now_text: str | None) -> None:
    """Show what each example reader sees of each example item (Humber ports scenario)."""
    now = parse_now(now_text or DEMO_NOW)
    policy = resolve_policy(policy_dir)
    check = label_check(policy)
    rows = list(_demo_rows(policy, now, check))
    widths = [max(len(row[0]) for row in rows)] + [
        max(len(row[1][column]) for row in rows) for column in range(len(rows[0][1]))
    ]
    click.echo(f"Humber ports scenario, decided at {now.isoformat()} by policy `{policy.name}`")
    click.echo(f"({policy.digest})\n")
    for name, cells in rows:
        click.echo(
            "  ".join(text.ljust(width) for text, width in zip([name, *cells], widths, strict=True))
        )
    reader = load_principal(DEMO_DIR / "readers" / "agency-frontline.yaml", policy=policy)
    item = load_item(DEMO_DIR / "items" / "hum-001-container.yaml", policy=policy)
    decision = decide(reader, item, now=now, policy=policy, label_check=check)
    level = reader.vetting.level if reader.vetting else "no"
    click.echo(
        f"\nWhat {reader.id} ({reader.employment}, {level} vetting) "
        f"reads of {item.id} ({decision.view.label} view):\n"
    )
    click.echo(render_text(item, decision) or "nothing to show\n", nl=False)
