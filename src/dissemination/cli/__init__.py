"""The `dissemination` command line.

Exit codes: 0 for any decision (a denial is an answer), 1 where a command
reports a finding (a failed check: verify, test, diff, audit verify, a refused
hand-off), 2 for bad input or usage, with a one-line error naming the file and
field, 3 when the environment failed (database unreachable, disk full, trail
unwritable), 70 for an unexpected error (one line; the traceback only with
`--debug`). Never a traceback otherwise.

Each group of commands lives in its own module and is registered here.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from dissemination.cli._common import DEBUG_META, DisseminationGroup

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, tuple[str, str, str]] = {
    "audit": ("audit", "audit", "Verify and query the disclosure trail (who was shown what)."),
    "callers": ("service", "callers", "Manage the callers a service accepts."),
    "demo": ("core", "demo", "Show what each example reader sees of each example item."),
    "diff": ("tooling", "diff", "Compare two policy directories over the whole fact space."),
    "explain": ("tooling", "explain_command", "Why READER gets the view they get of ITEM."),
    "export": ("stix", "export_group", "Export what a reader may see, in an interchange format."),
    "filter": ("core", "filter_command", "Stream what READER may see of ITEMS as JSON Lines."),
    "filter-stix": ("stix", "filter_stix", "Write the part of a STIX 2.1 BUNDLE READER may see."),
    "import": ("stix", "import_group", "Import items from an interchange format."),
    "keys": ("integrity", "keys", "Generate the Ed25519 keys that sign labels and checkpoints."),
    "lint": ("tooling", "lint", "Lint a policy directory: one line per finding."),
    "policy": ("service", "policy", "Signed policy bundles: make, verify, publish."),
    "registry": (
        "registry",
        "registry",
        "The ownership registry: who owns intelligence on a subject.",
    ),
    "schema": ("core", "schema", "Print the JSON Schema of an item or a principal."),
    "serve": ("service", "serve", "Serve decisions over HTTP (OpenID AuthZEN 1.0)."),
    "sign": ("integrity", "sign", "Sign ITEM's label as its originator."),
    "test": ("tooling", "test", "Run policy test cases (files, or directories of *.policy.yaml)."),
    "verify": ("integrity", "verify", "Check ITEM's label signature."),
    "view": ("core", "view", "Show what READER may see of ITEM."),
    "what-can-see": ("tooling", "what_can_see_command", "Which view READER gets of each item."),
    "who-can-see": ("tooling", "who_can_see_command", "Which view each reader gets of ITEM."),
}
"""Each command: its module under `dissemination.cli`, its name there, and its line in `--help`.

Commands are imported when they run (or their own help is asked for), so
`dissemination --help` imports none of them and `view` only the core: the
CLI starts in a fraction of the time (benchmarks/cli_startup.py).
"""


class LazyGroup(DisseminationGroup):
    """The top-level group: commands imported on first use, listed without importing them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module and return the command (None when unknown)."""
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, name, _help = entry
        command: click.Command = getattr(
            importlib.import_module(f"dissemination.cli.{module}"), name
        )
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their line from `COMMANDS`, importing none of them."""
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _version(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
    if not value or ctx.resilient_parsing:
        return
    from dissemination import __version__  # noqa: PLC0415 (only `--version` needs the package)

    click.echo(f"dissemination, version {__version__}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version and exit.",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="DISSEMINATION_DEBUG",
    help="On an unexpected error, print the traceback too.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Decide what intelligence each reader may see, and render it redacted.

    Exit codes: 0 an answer (a denial is an answer), 1 a check that failed,
    2 bad input or usage, 3 the environment failed, 70 an unexpected error.
    """
    ctx.meta[DEBUG_META] = debug
