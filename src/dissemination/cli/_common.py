"""Shared pieces of the CLI: options, error handling, output."""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from dissemination.errors import DisseminationError, RefusedError, UnavailableError
from dissemination.policy import Policy, load_policy

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ENVIRONMENT",
    "EXIT_FAILED_CHECK",
    "DisseminationGroup",
    "atomic_write_lines",
    "dump_json",
    "now_option",
    "parse_now",
    "policy_option",
    "resolve_policy",
]

EXIT_FAILED_CHECK = 1
"""Exit code for a check that failed: verify, test, diff, a refused hand-off."""

EXIT_BAD_INPUT = 2
"""Exit code for bad input (click uses it for usage errors too)."""

EXIT_ENVIRONMENT = 3
"""Exit code for an environment that failed: database unreachable, disk full."""

F = TypeVar("F", bound=Callable[..., Any])


class DisseminationGroup(click.Group):
    """A click group that turns library errors into one line and an exit code.

    `RefusedError` exits 1, `UnavailableError` 3, any other library error 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a `DisseminationError` becomes `error: ...` and its exit code."""
        try:
            return super().invoke(ctx)
        except RefusedError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_FAILED_CHECK)
        except UnavailableError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_ENVIRONMENT)
        except DisseminationError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except BrokenPipeError:
            # The reader of our output went away (`| head`): not an error of ours.
            sys.stderr.close()
            ctx.exit(0)


def policy_option(function: F) -> F:
    """`--policy DIR`: the profile directory (default: the embedded default)."""
    return click.option(
        "--policy",
        "policy_dir",
        type=click.Path(path_type=Path),
        default=None,
        metavar="DIR",
        help="Profile directory (model.conf, policy.csv, profile.yaml). "
        "Default: the embedded UK profile.",
    )(function)


def now_option(function: F) -> F:
    """`--now TIME`: decide as of this time (ISO 8601 with a zone)."""
    return click.option(
        "--now",
        "now_text",
        default=None,
        metavar="TIME",
        help="Decide as of this time, ISO 8601 with a zone (2026-11-27T10:00:00Z). "
        "Default: the clock.",
    )(function)


def resolve_policy(policy_dir: Path | None) -> Policy:
    """Load the profile named by `--policy`, or the embedded default."""
    return load_policy(policy_dir)


def parse_now(text: str | None) -> dt.datetime:
    """Read `--now`, or take the clock (UTC) when it is not given.

    Raises:
        click.BadParameter: the time is not ISO 8601 or has no zone.
    """
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("not an ISO 8601 time", param_hint="'--now'") from None
    if value.tzinfo is None:
        raise click.BadParameter("the time needs a zone (Z or +01:00)", param_hint="'--now'")
    return value


def dump_json(data: Any) -> str:
    """One JSON document on one line, keys in the order built, non-ASCII kept."""
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def atomic_write_lines(path: Path, lines: Iterable[str]) -> int:
    """Write lines to `path` all or nothing: a temporary file, renamed when complete.

    Returns:
        How many lines were written.
    """
    directory = path.parent if str(path.parent) else Path()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, renamed on success)
        "w", encoding="utf-8", dir=directory, prefix=f".{path.name}.", delete=False
    )
    count = 0
    try:
        with handle:
            for line in lines:
                handle.write(line)
                handle.write("\n")
                count += 1
        Path(handle.name).replace(path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count
