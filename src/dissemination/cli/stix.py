"""STIX 2.1 commands: `export stix`, `import stix`, `filter-stix` (docs/stix.md).

python-stix2 is an optional extra (`pip install 'dissemination[stix]'`); it is
imported when one of these commands runs, never when the CLI starts.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import click

from dissemination.cli._common import (
    atomic_write_lines,
    dump_json,
    now_option,
    parse_now,
    policy_option,
    resolve_policy,
)
from dissemination.cli._integrity import integrity_options, integrity_setup
from dissemination.decision import decide
from dissemination.errors import UnavailableError
from dissemination.loading import load_item, load_principal, parse_document
from dissemination.parsing import read_text

__all__ = ["export_group", "filter_stix", "import_group"]


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


def _read_bundle(path: Path) -> Any:
    # A regular file only (a FIFO is refused, not waited on), UTF-8, bounded in size.
    return parse_document(read_text(path), source=str(path), yaml_ok=False)


_receiver_option = click.option(
    "--receiver",
    default=None,
    metavar="ORG",
    help="The importing organisation (`$receiver` in the profile's TLP table).",
)
_recipient_option = click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="ID",
    help="A named recipient (`$recipients`, for TLP:RED); repeat for more. "
    "Without one, TLP:RED content is shown to nobody.",
)


@click.group("import")
def import_group() -> None:
    """Import items from an interchange format."""


@import_group.command("stix")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@policy_option
@now_option
@_receiver_option
@_recipient_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    metavar="DIR",
    help="Write one item file per item into DIR (default: JSON Lines on standard output).",
)
def import_stix(
    *,
    bundle_path: Path,
    policy_dir: Path | None,
    now_text: str | None,
    receiver: str | None,
    recipients: tuple[str, ...],
    out_dir: Path | None,
) -> None:
    """Turn a STIX 2.1 BUNDLE into items, mapping markings to handling (fail closed).

    A summary on standard error says what each marking mapped to and what
    could not be mapped (those items are shown to nobody).
    """
    _need_stix2()
    from dissemination.stix.ingest import import_bundle  # noqa: PLC0415 (optional extra)

    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    result = import_bundle(
        _read_bundle(bundle_path),
        policy=policy,
        now=now,
        receiver=receiver,
        recipients=recipients,
        source=str(bundle_path),
    )
    documents = [
        (entry.item.id, entry.item.model_dump(mode="json", exclude_none=True))
        for entry in result.items
    ]
    if out_dir is None:
        for _, document in documents:
            click.echo(dump_json(document))
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        for item_id, document in documents:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", item_id) + ".json"
            atomic_write_lines(out_dir / name, [json.dumps(document, ensure_ascii=False, indent=2)])
    for line in result.summary():
        click.echo(line, err=True)


@click.command("filter-stix")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@_reader_option
@policy_option
@now_option
@_receiver_option
@_recipient_option
@_out_option
@integrity_options
def filter_stix(
    *,
    bundle_path: Path,
    reader_path: Path,
    policy_dir: Path | None,
    now_text: str | None,
    receiver: str | None,
    recipients: tuple[str, ...],
    out_path: Path | None,
) -> None:
    """Write the part of a STIX 2.1 BUNDLE that READER may see (granular markings per property)."""
    _need_stix2()
    from dissemination.stix.filtering import filter_bundle  # noqa: PLC0415 (optional extra)

    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    reader = load_principal(reader_path, policy=policy)
    integrity = integrity_setup(policy)
    bundle = filter_bundle(
        _read_bundle(bundle_path),
        reader,
        policy=policy,
        now=now,
        label_check=integrity.label_check,
        receiver=receiver,
        recipients=recipients,
        source=str(bundle_path),
    )
    _write(bundle, out_path)
