"""Shared pieces of the CLI: options, error handling, output."""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dissemination.errors import (
    DisseminationError,
    RefusedError,
    RegistryError,
    RegistryKeyError,
    TrailError,
    UnavailableError,
)

if TYPE_CHECKING:
    from dissemination.policy import Policy

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_ENVIRONMENT",
    "EXIT_FAILED_CHECK",
    "EXIT_SOFTWARE",
    "DisseminationGroup",
    "atomic_write_lines",
    "dump_json",
    "environment_failed",
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


_ENVIRONMENT_CAUSES = frozenset({"OperationalError", "InterfaceError", "TimeoutError"})
"""SQLAlchemy's (and the DB-API's) errors of a database that cannot be reached."""


def environment_failed(exc: DisseminationError) -> bool:
    """Whether a library error means the environment failed (exit 3), not the input.

    `UnavailableError` always does. A trail or registry error does when what
    it translated was an operating-system error (disk full, permission
    denied) or a database that cannot be reached.

    Args:
        exc: the error.

    Returns:
        True for an environment failure.
    """
    if isinstance(exc, UnavailableError):
        return True
    if not isinstance(exc, TrailError | RegistryError) or isinstance(exc, RegistryKeyError):
        return False
    cause = exc.__cause__
    if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError | IsADirectoryError):
        return True
    return cause is not None and type(cause).__name__ in _ENVIRONMENT_CAUSES


EXIT_SOFTWARE = 70
"""Exit code for an error the library did not expect (a bug): `EX_SOFTWARE` of sysexits."""

DEBUG_META = "dissemination.debug"
"""Where the root context keeps `--debug`."""


class DisseminationGroup(click.Group):
    """A click group that turns every error into one line and an exit code.

    `RefusedError` exits 1, an environment failure (`environment_failed`) 3,
    any other library error 2;
    an operating-system error (a disk that is full, a file that cannot be
    written) 3; anything else is a bug: one line and 70, with the traceback
    only under `--debug`.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an error becomes `error: ...` and its exit code."""
        try:
            return super().invoke(ctx)
        except RefusedError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_FAILED_CHECK)
        except DisseminationError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_ENVIRONMENT if environment_failed(exc) else EXIT_BAD_INPUT)
        except BrokenPipeError:
            # The reader of our output went away (`| head`): not an error of ours.
            sys.stderr.close()
            ctx.exit(0)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OSError as exc:
            where = f" `{exc.filename}`" if isinstance(exc.filename, str) else ""
            click.echo(
                f"error: cannot read or write{where}: {exc.strerror or 'I/O error'}", err=True
            )
            _traceback_if_debug(ctx)
            ctx.exit(EXIT_ENVIRONMENT)
        except Exception as exc:  # noqa: BLE001 (the last resort: one line, never a traceback)
            click.echo(
                f"error: unexpected {type(exc).__name__} (a bug in dissemination; "
                "`--debug` shows the traceback)",
                err=True,
            )
            _traceback_if_debug(ctx)
            ctx.exit(EXIT_SOFTWARE)


def _traceback_if_debug(ctx: click.Context) -> None:
    if ctx.find_root().meta.get(DEBUG_META):
        click.echo(traceback.format_exc().rstrip("\n"), err=True)


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
    from dissemination.policy import load_policy  # noqa: PLC0415 (`--help` needs no policy)

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
