"""Audit commands: `audit verify`, `audit disclosures`, `audit checkpoint`, `audit repair`.

A LOG is a JSON Lines trail file or a database URL, as given to `--audit`.
Exit codes: 0 when the trail verifies, 1 when it does not (naming the first
broken record), 2 when it cannot be read.
"""

from __future__ import annotations

from pathlib import Path

import click

from dissemination.audit import (
    DisclosureTrail,
    JsonlSink,
    TrailReport,
    is_database_url,
    open_trail,
    repair_torn_tail,
)
from dissemination.cli._common import dump_json
from dissemination.errors import InputError
from dissemination.integrity import load_private_key, load_public_key

__all__ = ["audit"]

EXIT_BROKEN = 1

_key_option = click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PUB",
    help="The trail key's public PEM, to verify checkpoint signatures.",
)


@click.group()
def audit() -> None:
    """Verify and query the disclosure trail (who was shown what)."""


def _open(log: str) -> DisclosureTrail:
    trail = open_trail(log)
    click.get_current_context().call_on_close(trail.close)
    return trail


def _checked(trail: DisclosureTrail, key_path: Path | None) -> TrailReport:
    public = load_public_key(key_path) if key_path is not None else None
    report = trail.verify(public_key=public)
    if report.checkpoints and not report.signatures_checked:
        click.echo("warning: checkpoint signatures not checked: give `--key PUB`", err=True)
    return report


@audit.command("verify")
@click.argument("log", metavar="LOG")
@_key_option
def verify_command(log: str, key_path: Path | None) -> None:
    """Verify the trail LOG: exit 0 when whole, 1 naming the first broken record."""
    trail = _open(log)
    report = _checked(trail, key_path)
    if report.problem is not None:
        click.echo(f"broken ({report.problem.kind}): {report.problem.message}")
        raise click.exceptions.Exit(EXIT_BROKEN)
    if not report.checkpoints:
        signatures = "no checkpoint yet, so no signature to verify"
    elif report.signatures_checked:
        signatures = "signatures verified"
    else:
        signatures = "signatures not checked"
    click.echo(
        f"ok: {report.records} records chain, {report.checkpoints} checkpoints ({signatures})"
    )


@audit.command("disclosures")
@click.argument("item_id", metavar="ITEM")
@click.option("--log", required=True, metavar="LOG", help="The trail (file or database URL).")
@_key_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def disclosures(item_id: str, log: str, key_path: Path | None, fmt: str) -> None:
    """List who was shown what of ITEM (an item id), oldest first.

    The trail is verified first; a broken trail lists nothing and exits 1.
    """
    trail = _open(log)
    report = _checked(trail, key_path)
    if report.problem is not None:
        click.echo(f"broken ({report.problem.kind}): {report.problem.message}", err=True)
        raise click.exceptions.Exit(EXIT_BROKEN)
    for record in trail.disclosures(item_id):
        if fmt == "json":
            click.echo(dump_json(record.data()))
            continue
        shown = ", ".join(record.portions) or "no portions"
        click.echo(f"{record.time}  {record.reader}  {record.view}  {shown}")


@audit.command("checkpoint")
@click.argument("log", metavar="LOG")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    metavar="KEY",
    help="The trail's private key.",
)
def checkpoint_command(log: str, key_path: Path) -> None:
    """Sign a checkpoint of LOG's head now (at shutdown, say)."""
    key = load_private_key(key_path)
    trail = open_trail(log, checkpoint_key=key)
    click.get_current_context().call_on_close(trail.close)
    signed = trail.checkpoint()
    if signed is None:
        click.echo("nothing to sign: the trail is empty or its head is signed already")
        return
    click.echo(f"signed record {signed.seq} ({signed.head})")


@audit.command("repair")
@click.argument("log", metavar="LOG")
def repair(log: str) -> None:
    """Move a half-written last line of LOG (a crash) to LOG.torn, so appends resume.

    Only a torn last line is touched: any other damage is evidence, for
    `audit verify` to report.
    """
    if is_database_url(log):
        raise InputError("a database trail is written in transactions: nothing to repair")
    sink = JsonlSink(log)
    repaired = False
    for path in (sink.path, sink.checkpoint_path):
        moved = repair_torn_tail(path)
        if moved:
            repaired = True
            click.echo(f"{path}: moved a torn last line ({moved} bytes) to {path}.torn")
    if not repaired:
        click.echo("nothing to repair: no torn last line")
