"""`dissemination registry ...`: the ownership registry from the command line.

`dissemination registry upgrade` creates the registry or migrates it (the
only command that creates or alters tables; the others refuse a missing
registry or one at another schema revision, saying to run it).

Every command takes `--db URL` (default: `$DISSEMINATION_REGISTRY_URL`, else
the SQLite file `~/.local/share/dissemination/registry.sqlite`) and
`--key-file FILE` (default: `$DISSEMINATION_REGISTRY_KEY_FILE`, else the keys
in `$DISSEMINATION_REGISTRY_KEY`), and prints JSON with `--format json`.
Bad input (a malformed identifier, an unreachable database, a missing or
wrong key) is one line on standard error and exit code 2, with nothing written.
`transfer`, `renew`, `release` and `history` take `--as PRINCIPAL`: the owner's
organisation may act on its own claims, the profile's `registry_admin_role` on
any (and its `registry_auditor_role` may read any history); anyone else is
refused in one line, exit code 1, and the refusal is recorded in the history.
`registry lookup --audit TARGET` records each item it shows in the disclosure
trail before printing anything (the audit options of `view` and `filter`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dissemination.cli._common import (
    DisseminationGroup,
    now_option,
    parse_now,
    policy_option,
    resolve_policy,
)
from dissemination.cli._integrity import audit_options, audit_trail, label_check, trust_option
from dissemination.errors import IdentifierError
from dissemination.identifiers import (
    IDENTIFIER_TYPES,
    NormalisedIdentifier,
    normalise_subjects,
    normalise_value,
)
from dissemination.loading import iter_sourced_items, load_principal
from dissemination.models import Item, Owner
from dissemination.registry import (
    DEFAULT_CLAIM_PERIOD,
    Registration,
    Registry,
    default_url,
    generate_key,
    load_keys,
)
from dissemination.registry import upgrade as upgrade_schema

__all__ = ["registry"]

# psycopg reports a connection it lost while retrying on its own logger; the
# registry retries and reports in one line, so nothing else reaches stderr.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

F = TypeVar("F", bound=Callable[..., Any])


def _registry_options(function: F) -> F:
    """`--db`, `--key-file`, `--claim-days`, `--format`: shared by every registry command."""
    function = click.option(
        "--format",
        "fmt",
        type=click.Choice(["json", "text"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(function)
    function = click.option(
        "--claim-days",
        type=click.IntRange(min=1),
        default=DEFAULT_CLAIM_PERIOD.days,
        show_default=True,
        help="How long a claim holds unless renewed.",
    )(function)
    function = click.option(
        "--key-file",
        type=click.Path(path_type=Path),
        default=None,
        metavar="FILE",
        help="Blind-index keys, `ID:SECRET` per line, oldest first "
        "(default: $DISSEMINATION_REGISTRY_KEY_FILE, else $DISSEMINATION_REGISTRY_KEY).",
    )(function)
    return click.option(
        "--db",
        "url",
        default=None,
        metavar="URL",
        help="Registry database: sqlite:///FILE or postgresql+psycopg://... "
        "(default: $DISSEMINATION_REGISTRY_URL, else "
        "~/.local/share/dissemination/registry.sqlite).",
    )(function)


def _subject_arguments(function: F) -> F:
    """`TYPE VALUE [--country C] [--born DATE]`: the subject a command is about."""
    function = click.option(
        "--born", default=None, metavar="DATE", help="A person's date of birth (YYYY-MM-DD)."
    )(function)
    function = click.option(
        "--country", default=None, metavar="ISO3", help="A passport's issuing country (GBR)."
    )(function)
    function = click.argument("value")(function)
    return click.argument("subject_type", metavar="TYPE", type=click.Choice(IDENTIFIER_TYPES))(
        function
    )


def _principal_option(function: F) -> F:
    """`--as PRINCIPAL`: who acts; the profile decides what they may do."""
    return click.option(
        "--as",
        "principal_path",
        required=True,
        metavar="PRINCIPAL",
        type=click.Path(path_type=Path),
        help="Who acts (a principal file). The owner's organisation may change its own "
        "claims; the profile's registry_admin_role any; everyone else is refused (exit 1), "
        "and the refusal is recorded.",
    )(function)


def _open(
    url: str | None, key_file: Path | None, claim_days: int, *, read_only: bool = False
) -> Registry:
    return Registry(
        url,
        keys=load_keys(key_file),
        claim_period=dt.timedelta(days=claim_days),
        read_only=read_only,
    )


def _identifier(
    subject_type: str, value: str, country: str | None, born: str | None
) -> NormalisedIdentifier:
    return normalise_value(subject_type, value, country=country, date_of_birth=born)


def _check_identifiers(source: str, item: Item) -> None:
    """Normalise an item's subjects; a bad one is an error naming the file (and line)."""
    try:
        normalise_subjects(item)
    except IdentifierError as exc:
        failure = IdentifierError(
            subject_type=exc.subject_type, problem=exc.problem, field=exc.field, source=source
        )
    else:
        return
    raise failure


def _emit(fmt: str, data: Any, lines: list[str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(lines))


def _owner_text(owner: dict[str, str] | None) -> str:
    if owner is None:
        return "nobody"
    return f"{owner['organisation']}, {owner['unit']} <{owner['contact']}>"


@click.group(cls=DisseminationGroup)
def registry() -> None:
    """The ownership registry: who owns intelligence on a subject."""


@registry.command()
@click.argument(
    "item_paths", metavar="ITEM...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--actor", default="ingest", show_default=True, help="Who registers (recorded).")
@_registry_options
@policy_option
@now_option
@trust_option
def register(
    *,
    item_paths: tuple[Path, ...],
    actor: str,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Register ITEMs (files, directories or JSON Lines): link their subjects, claim the unowned.

    Every item and identifier is checked before anything is written; an error
    names the file (and line). With `--trust DIR` (required when the profile
    requires signed labels) each item's label is verified first, and only a
    label that verifies counts as verified in the registry.
    """
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    check = label_check(policy)
    items: list[tuple[str, Item]] = [
        sourced for path in item_paths for sourced in iter_sourced_items(path, policy=policy)
    ]
    for source, item in items:  # every identifier checked before anything is written
        _check_identifiers(source, item)
    verified = {item.id: bool(check is not None and check(item)) for _source, item in items}
    with _open(url, key_file, claim_days) as opened:
        # One transaction per verification outcome (register_many takes one flag);
        # identifiers were all checked above, so only a database error can stop
        # the second after the first. Most runs have one outcome, so one call.
        registered: dict[int, tuple[Registration, ...]] = {}
        for outcome in (True, False):
            group = [
                (index, item)
                for index, (_source, item) in enumerate(items)
                if verified[item.id] is outcome
            ]
            if group:
                done = opened.register_many(
                    [item for _index, item in group],
                    now=now,
                    actor=actor,
                    label_verified=outcome,
                )
                registered.update(zip((index for index, _item in group), done, strict=True))
        # An older version than the one registered stores nothing (no registrations).
        superseded = {
            index
            for index, (_source, item) in enumerate(items)
            if not registered[index] and opened.superseded(item)
        }
    results = [(item.id, registered[index]) for index, (_source, item) in enumerate(items)]
    data = [
        {
            "item": item_id,
            "label_verified": verified[item_id],
            "superseded": index in superseded,
            "subjects": [r.to_json() for r in registrations],
        }
        for index, (item_id, registrations) in enumerate(results)
    ]
    lines = []
    for index, (item_id, registrations) in enumerate(results):
        if index in superseded:
            lines.append(
                f"{item_id}: version {items[index][1].version} is older than the one "
                "registered: nothing stored"
            )
            continue
        if check is not None and not verified[item_id]:
            lines.append(f"{item_id}: label does not verify: shown to nobody")
        for r in registrations:
            owner = _owner_text(r.claim.to_json()["owner"])
            if r.outcome == "new":
                lines.append(f"{item_id} {r.subject} ({r.type}): new, owned by {owner}")
            else:
                others = ", ".join(i for i in r.items if i != item_id) or "none"
                lines.append(
                    f"{item_id} {r.subject} ({r.type}): already owned by {owner} since "
                    f"{r.claim.to_json()['since']} (other items: {others})"
                )
    _emit(fmt, data, lines)


@registry.command()
@_subject_arguments
@click.option(
    "--as",
    "reader_path",
    required=True,
    metavar="READER",
    type=click.Path(path_type=Path),
    help="The reader (principal) file.",
)
@click.option(
    "--after",
    default=None,
    metavar="ITEM",
    help="Start after this item id (the `next` of the previous page).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1000),
    default=50,
    show_default=True,
    help="The most linked items to list.",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Open the database for reading only (works on a read-only file or role).",
)
@_registry_options
@policy_option
@now_option
@audit_options
def lookup(
    *,
    subject_type: str,
    value: str,
    country: str | None,
    born: str | None,
    reader_path: Path,
    after: str | None,
    limit: int,
    read_only: bool,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Who owns intelligence on TYPE VALUE, as far as READER may know.

    Lists at most `--limit` linked items; a full page ends with the `--after`
    to give for the next one. With `--audit`, each item the answer shows is
    recorded in the disclosure trail before anything is printed; if the trail
    cannot be written, nothing is.
    """
    now = parse_now(now_text)
    policy = resolve_policy(policy_dir)
    identifier = _identifier(subject_type, value, country, born)
    reader = load_principal(reader_path, policy=policy)
    trail = audit_trail()
    record = trail.record if trail is not None else None
    with _open(url, key_file, claim_days, read_only=read_only) as opened:
        answer = opened.lookup(
            identifier, reader, now=now, policy=policy, record=record, after=after, limit=limit
        )
    data = answer.to_json()
    lines = [f"{identifier.type} {identifier.canonical}: owner {_owner_text(data['owner'])}"]
    if data["owner"] is not None:
        lines[0] += f" since {data['since']}"
    for linked in data["items"]:
        line = f"  {linked['item']} ({linked['view']}), {_owner_text(linked['owner'])}"
        if "referral" in linked:
            line += f": {linked['referral']}"
        lines.append(line)
    if not data["items"]:
        lines.append("  nothing you may know of")
    if "next" in data:
        lines.append(f"  more: --after {data['next']}")
    _emit(fmt, data, lines)


@registry.command()
@_subject_arguments
@click.option("--to-organisation", required=True, help="The new owner's organisation.")
@click.option("--to-unit", required=True, help="The new owner's unit.")
@click.option("--to-contact", required=True, help="The new owner's contact.")
@_principal_option
@click.option("--reason", required=True, help="Why.")
@_registry_options
@policy_option
@now_option
def transfer(
    *,
    subject_type: str,
    value: str,
    country: str | None,
    born: str | None,
    to_organisation: str,
    to_unit: str,
    to_contact: str,
    principal_path: Path,
    reason: str,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Hand TYPE VALUE to another owner (a law-enforcement agency, say); the history stays."""
    now = parse_now(now_text)
    identifier = _identifier(subject_type, value, country, born)
    to = Owner(organisation=to_organisation, unit=to_unit, contact=to_contact)
    policy = resolve_policy(policy_dir)
    by = load_principal(principal_path, policy=policy)
    with _open(url, key_file, claim_days) as opened:
        claim = opened.transfer(identifier, to, now=now, by=by, reason=reason, policy=policy)
    data = claim.to_json()
    _emit(
        fmt,
        data,
        [f"{identifier.type} {identifier.canonical}: now owned by {_owner_text(data['owner'])}"],
    )


@registry.command()
@_subject_arguments
@_principal_option
@click.option("--reason", default=None, help="Why.")
@_registry_options
@policy_option
@now_option
def renew(
    *,
    subject_type: str,
    value: str,
    country: str | None,
    born: str | None,
    principal_path: Path,
    reason: str | None,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Extend the claim on TYPE VALUE by the claim period from now."""
    now = parse_now(now_text)
    identifier = _identifier(subject_type, value, country, born)
    policy = resolve_policy(policy_dir)
    by = load_principal(principal_path, policy=policy)
    with _open(url, key_file, claim_days) as opened:
        claim = opened.renew(identifier, now=now, by=by, reason=reason, policy=policy)
    data = claim.to_json()
    _emit(fmt, data, [f"{identifier.type} {identifier.canonical}: claim runs to {data['expires']}"])


@registry.command()
@_subject_arguments
@_principal_option
@click.option("--reason", required=True, help="Why.")
@_registry_options
@policy_option
@now_option
def release(
    *,
    subject_type: str,
    value: str,
    country: str | None,
    born: str | None,
    principal_path: Path,
    reason: str,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Give up ownership of TYPE VALUE; the next item to name it claims it anew."""
    now = parse_now(now_text)
    identifier = _identifier(subject_type, value, country, born)
    policy = resolve_policy(policy_dir)
    by = load_principal(principal_path, policy=policy)
    with _open(url, key_file, claim_days) as opened:
        opened.release(identifier, now=now, by=by, reason=reason, policy=policy)
    data = {"type": identifier.type, "identifier": identifier.canonical, "released": True}
    _emit(fmt, data, [f"{identifier.type} {identifier.canonical}: released"])


@registry.command()
@_subject_arguments
@_principal_option
@_registry_options
@policy_option
@now_option
def history(
    *,
    subject_type: str,
    value: str,
    country: str | None,
    born: str | None,
    principal_path: Path,
    url: str | None,
    key_file: Path | None,
    claim_days: int,
    fmt: str,
    policy_dir: Path | None,
    now_text: str | None,
) -> None:
    """Every change to TYPE VALUE's ownership: for its owner's organisation or an auditor.

    Anyone else is refused (exit 1) and the refusal is recorded in the history.
    """
    now = parse_now(now_text)
    identifier = _identifier(subject_type, value, country, born)
    policy = resolve_policy(policy_dir)
    by = load_principal(principal_path, policy=policy)
    with _open(url, key_file, claim_days) as opened:
        found = opened.history(identifier, by=by, now=now, policy=policy)
    data = found.to_json()
    claim = data["claim"]
    lines = [
        f"{identifier.type} {identifier.canonical}: owner "
        + (f"{_owner_text(claim['owner'])} since {claim['since']}" if claim else "nobody")
    ]
    for event in data["events"]:
        line = f"  {event['at']} {event['action']} by {event['actor']}"
        if event["item"]:
            line += f" item {event['item']}"
        if event["owner"]:
            line += f" owner {_owner_text(event['owner'])}"
        if event["reason"]:
            line += f": {event['reason']}"
        lines.append(line)
    _emit(fmt, data, lines)


@registry.command()
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Blind-index keys (recorded in a new registry, checked against an existing one).",
)
@click.option("--db", "url", default=None, metavar="URL", help="Registry database URL.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True
)
def upgrade(*, key_file: Path | None, url: str | None, fmt: str) -> None:
    """Create the registry, or migrate it to this release's schema.

    The one command that creates or alters tables: every other command refuses
    a database with no registry, or one at another schema revision, and says
    to run this. A SQLite file is created owner-only (0600); its folder must exist.
    """
    target = url if url is not None else default_url()
    if url is None and target.startswith("sqlite:///"):
        # The default file's own folder (~/.local/share/dissemination) is ours to make;
        # a folder named in --db must exist (a mistyped path is an error).
        Path(target.removeprefix("sqlite:///")).parent.mkdir(
            mode=0o700, parents=True, exist_ok=True
        )
    done = upgrade_schema(target, keys=load_keys(key_file))
    data = {"before": done.before, "after": done.after, "created": done.created}
    if done.created:
        line = f"registry created at schema revision {done.after}"
    elif done.before == done.after:
        line = f"registry already at schema revision {done.after}"
    else:
        line = f"registry migrated from schema revision {done.before} to {done.after}"
    _emit(fmt, data, [line])


@registry.command()
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="The registry's keys followed by the new key(s) (see `registry keygen`).",
)
@click.option("--db", "url", default=None, metavar="URL", help="Registry database URL.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True
)
@now_option
def rekey(*, key_file: Path, url: str | None, fmt: str, now_text: str | None) -> None:
    """Re-key the blind index with the new keys at the end of FILE; no entry is lost.

    Append a key with `dissemination registry keygen k2 >> FILE`, then run this.
    Every process must then use the new key file.
    """
    now = parse_now(now_text)
    keys = load_keys(key_file)
    # A key ring longer than the registry's chain opens it: the extra keys are new.
    opened = Registry(url, keys=keys)
    with opened:
        added = opened.rekey(keys, now=now)
    data = {"added": list(added), "keys": list(keys.ids)}
    _emit(fmt, data, [f"re-keyed with {', '.join(added)}; keys now {', '.join(keys.ids)}"])


@registry.command()
@click.argument("key_id")
def keygen(key_id: str) -> None:
    """Print a new key entry `KEY_ID:SECRET` (32 random bytes) to append to a key file."""
    click.echo(generate_key(key_id))
