"""STIX 2.1 commands: `export stix`, `import stix`, `filter-stix` (docs/stix.md).

python-stix2 is an optional extra (`pip install 'dissemination[stix]'`); it is
imported when one of these commands runs, never when the CLI starts.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import click

from dissemination.cli._common import (
    atomic_write_lines,
    now_option,
    parse_now,
    policy_option,
    resolve_policy,
)
from dissemination.cli._integrity import integrity_options, integrity_setup
from dissemination.decision import decide
from dissemination.errors import UnavailableError
from dissemination.loading import load_item, load_principal

__all__ = ["export_group"]


def _need_stix2() -> None:
    if importlib.util.find_spec("stix2") is None:
        raise UnavailableError("python-stix2 is not installed: `pip install 'dissemination[stix]'`")


def _write(data: Any, out_path: Path | None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out_path is None:
        click.echo(text)
    else:
        atomic_write_lines(out_path, [text])


_reader_option = click.option(
    "--as",
    "reader_path",
    required=True,
    metavar="READER",
    type=click.Path(path_type=Path),
    help="The reader (principal) file.",
)

_out_option = click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the bundle to FILE, all or nothing (default: standard output).",
)


@click.group("export")
def export_group() -> None:
    """Export what a reader may see, in an interchange format."""


@export_group.command("stix")
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@_reader_option
@policy_option
@now_option
@_out_option
@integrity_options
def export_stix(
    *,
    item_path: Path,
    reader_path: Path,
    policy_dir: Path | None,
    now_text: str | None,
    out_path: Path | None,
) -> None:
    """Write a STIX 2.1 bundle of exactly what READER may see of ITEM.

    The item is decided and rendered first; the bundle holds the rendered view
    only. At `none` the bundle has no objects.
    """
    _need_stix2()
    from dissemination.stix.export import export_bundle  # noqa: PLC0415 (optional extra)

    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    item = load_item(item_path, policy=policy)
    integrity = integrity_setup(policy)
    decision = decide(reader, item, now=now, policy=policy, label_check=integrity.label_check)
    bundle = export_bundle(item, decision, policy=policy)
    integrity.record(item, decision)  # before anything is shown
    _write(bundle, out_path)
