"""Integrity commands: `keys generate`, `sign`, `verify`.

Exit codes: 0 when done (or the label verifies), 1 when `verify` finds the
label does not verify (with the reason), 2 on unreadable input.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from dissemination.cli._common import atomic_write_lines, policy_option, resolve_policy
from dissemination.errors import InvalidLabelSignature, KeyFileError
from dissemination.integrity import (
    generate_key,
    key_id,
    load_private_key,
    load_trust_store,
    sign_label,
    verify_label,
    write_key_pair,
)
from dissemination.loading import load_item

__all__ = ["keys", "sign", "verify"]

EXIT_INVALID = 1


@click.group()
def keys() -> None:
    """Generate the Ed25519 keys that sign labels and trail checkpoints."""


@keys.command("generate")
@click.option("--org", "organisation", required=True, metavar="ORG", help="The organisation.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path(),
    metavar="DIR",
    help="Where to write ORG.key and ORG.pem. Default: the current directory.",
)
def generate(organisation: str, out_dir: Path) -> None:
    """Write a new private key ORG.key (mode 0600) and its public key ORG.pem.

    Keep ORG.key secret; put ORG.pem in the trust store of everyone who must
    verify labels signed for ORG. Existing files are never overwritten.
    """
    if not out_dir.is_dir():
        raise KeyFileError("no such directory", source=str(out_dir))
    key = generate_key()
    private, public = write_key_pair(key, organisation=organisation, directory=out_dir)
    click.echo(f"private key: {private} (mode 0600, keep it secret)")
    click.echo(f"public key:  {public} (copy it into the trust store)")
    click.echo(f"key id:      {key_id(key)}")


@click.command()
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    metavar="KEY",
    help="The originator's private key file.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the signed item to FILE (YAML for .yaml/.yml, else JSON), all or nothing. "
    "Default: print it as JSON.",
)
@policy_option
def sign(item_path: Path, key_path: Path, out_path: Path | None, policy_dir: Path | None) -> None:
    """Sign ITEM's label as its originator and print (or write) the signed item."""
    policy = resolve_policy(policy_dir)
    key = load_private_key(key_path)
    item = load_item(item_path, policy=policy)
    data = sign_label(item, key).model_dump(mode="json", exclude_none=True)
    if out_path is not None and out_path.suffix in {".yaml", ".yml"}:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip("\n")
    else:
        text = json.dumps(data, ensure_ascii=False, indent=2)
    if out_path is None:
        click.echo(text)
    else:
        atomic_write_lines(out_path, [text])


@click.command()
@click.argument("item_path", metavar="ITEM", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust_dir",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The trust store: a directory of <organisation>.pem public keys.",
)
@policy_option
def verify(item_path: Path, trust_dir: Path, policy_dir: Path | None) -> None:
    """Check ITEM's label signature: exit 0 when it verifies, 1 with the reason when not."""
    policy = resolve_policy(policy_dir)
    trust = load_trust_store(trust_dir)
    item = load_item(item_path, policy=policy)
    try:
        signature = verify_label(item, trust)
    except InvalidLabelSignature as exc:
        click.echo(f"invalid ({exc.reason}): {exc}")
        raise click.exceptions.Exit(EXIT_INVALID) from None
    click.echo(
        f"ok: the label of `{item.id}` verifies "
        f"(signed for `{signature.organisation}` with key `{signature.key_id}`)"
    )
