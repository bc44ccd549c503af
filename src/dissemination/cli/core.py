"""The core commands: view, filter, schema, demo."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import click

from dissemination.bulk import filter as filter_views
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
from dissemination.loading import iter_items, load_item, load_principal, load_principals
from dissemination.policy import Policy
from dissemination.redaction import render, render_text
from dissemination.schema import SCHEMA_DOCUMENTS, json_schema
from dissemination.tooling.whocansee import explain_decision

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
            document["explain"] = explain_decision(item, decision, policy)
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    text = render_text(item, decision)
    click.echo(text if text else "nothing to show\n", nl=False)
    if explain:
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
    help="Write to FILE, all or nothing (default: stream to standard output).",
)
@integrity_options
def filter_command(
    *,
    items_path: Path,
    reader_path: Path,
    policy_dir: Path | None,
    now_text: str | None,
    out_path: Path | None,
) -> None:
    """Stream what READER may see of ITEMS (a directory or a JSON Lines file) as JSON Lines.

    Items the reader sees at `none` are left out without trace. On standard
    output lines stream as they are decided; with `--out` the file appears only
    when every item was read.
    """
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    items = iter_items(items_path, policy=policy)
    integrity = integrity_setup(policy)
    views = filter_views(
        reader,
        items,
        now=now,
        policy=policy,
        label_check=integrity.label_check,
        record=integrity.record,
    )
    lines = (dump_json(doc) for doc in views)
    if out_path is not None:
        atomic_write_lines(out_path, lines)
        return
    for line in lines:
        click.echo(line)


@click.command()
@click.argument("document", type=click.Choice(SCHEMA_DOCUMENTS))
@policy_option
def schema(document: str, policy_dir: Path | None) -> None:
    """Print the JSON Schema of an item or a principal."""
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
