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

import click

from dissemination import __version__
from dissemination.cli._common import DEBUG_META, DisseminationGroup
from dissemination.cli.audit import audit
from dissemination.cli.core import demo, filter_command, schema, view
from dissemination.cli.integrity import keys, sign, verify
from dissemination.cli.registry import registry
from dissemination.cli.service import callers, policy, serve
from dissemination.cli.stix import export_group, filter_stix, import_group
from dissemination.cli.tooling import (
    diff,
    explain_command,
    lint,
    test,
    what_can_see_command,
    who_can_see_command,
)

__all__ = ["main"]


@click.group(cls=DisseminationGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dissemination")
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


main.add_command(view)
main.add_command(filter_command)
main.add_command(schema)
main.add_command(demo)
main.add_command(keys)
main.add_command(sign)
main.add_command(verify)
main.add_command(audit)
main.add_command(registry)
main.add_command(test)
main.add_command(lint)
main.add_command(diff)
main.add_command(who_can_see_command)
main.add_command(what_can_see_command)
main.add_command(explain_command)
main.add_command(export_group)
main.add_command(serve)
main.add_command(callers)
main.add_command(policy)
main.add_command(import_group)
main.add_command(filter_stix)
