"""The service commands: `serve`, `callers add`, `policy bundle|verify|publish`.

`serve` needs the `server` extra (`pip install 'dissemination[server]'`); its
modules are imported inside the command, so the rest of the CLI starts
without them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from dissemination.errors import InputError

__all__ = ["callers", "policy", "serve"]


def _server_modules() -> None:
    try:
        import starlette  # noqa: F401, PLC0415
        import uvicorn  # noqa: F401, PLC0415
    except ImportError as exc:
        raise click.UsageError(
            "`serve` needs the server extra: pip install 'dissemination[server]'"
        ) from exc


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--policy",
    "policy_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Profile directory (default: the embedded profile).",
)
@click.option(
    "--policy-bundle",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="A signed policy bundle; watched, and re-read on SIGHUP.",
)
@click.option(
    "--policy-db",
    default=None,
    metavar="URL",
    help="PostgreSQL where `policy publish` stores bundles (LISTEN/NOTIFY).",
)
@click.option(
    "--policy-trust",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Trust store of the keys that sign policy bundles.",
)
@click.option(
    "--trust",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Trust store for signed labels (profiles that require them).",
)
@click.option(
    "--audit",
    default=None,
    metavar="TARGET",
    help="Record every disclosure in this trail before answering.",
)
@click.option(
    "--audit-key",
    type=click.Path(path_type=Path),
    default=None,
    metavar="KEY",
    help="The trail's private key, to sign checkpoints.",
)
@click.option(
    "--callers",
    "callers_file",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Accept only callers with a token in FILE (`callers add`).",
)
@click.option(
    "--readers",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Look the reader up by subject.id in this directory of principals.",
)
@click.option(
    "--jwks",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="Verify the end user's JWT (subject.properties.token) with these keys.",
)
@click.option(
    "--claims",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="With --jwks: the claims-to-principal mapping (YAML).",
)
@click.option(
    "--registry",
    default=None,
    metavar="URL",
    help="Serve the registry endpoints over this registry database.",
)
@click.option(
    "--registry-key",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="The registry's key file.",
)
@click.option(
    "--max-clock-skew",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Refuse a context.time further than this from the clock (default: believe it).",
)
@click.option(
    "--certfile",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="TLS certificate (PEM); with --keyfile, serve HTTPS.",
)
@click.option(
    "--keyfile",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="TLS private key (PEM).",
)
def serve(  # noqa: PLR0917 (one parameter per option)
    host: str,
    port: int,
    workers: int,
    policy_dir: Path | None,
    policy_bundle: Path | None,
    policy_db: str | None,
    policy_trust: Path | None,
    trust: Path | None,
    audit: str | None,
    audit_key: Path | None,
    callers_file: Path | None,
    readers: Path | None,
    jwks: Path | None,
    claims: Path | None,
    registry: str | None,
    registry_key: Path | None,
    max_clock_skew: float | None,
    certfile: Path | None,
    keyfile: Path | None,
) -> None:
    """Serve decisions over HTTP: OpenID AuthZEN 1.0 and the dissemination endpoints."""
    _server_modules()
    import uvicorn  # noqa: PLC0415

    from dissemination.service.server import ENVIRONMENT, ServeOptions, build_app  # noqa: PLC0415

    if (certfile is None) != (keyfile is None):
        raise click.UsageError("TLS needs both `--certfile` and `--keyfile`")

    def text(path: Path | None) -> str | None:
        return str(path) if path is not None else None

    options = ServeOptions(
        policy=text(policy_dir),
        policy_bundle=text(policy_bundle),
        policy_db=policy_db,
        policy_trust=text(policy_trust),
        trust=text(trust),
        audit=audit,
        audit_key=text(audit_key),
        callers=text(callers_file),
        readers=text(readers),
        jwks=text(jwks),
        claims=text(claims),
        registry=registry,
        registry_key=text(registry_key),
        max_clock_skew=max_clock_skew,
    )
    build_app(options)  # every option checked here: a bad one is exit 2, before listening
    os.environ[ENVIRONMENT] = options.to_json()
    uvicorn.run(
        "dissemination.service.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=text(certfile),
        ssl_keyfile=text(keyfile),
        access_log=False,
        log_level="info",
    )


@click.group()
def callers() -> None:
    """Manage the callers a service accepts."""


@callers.command("add")
@click.argument("name")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path),
    required=True,
    metavar="FILE",
    help="The callers file (created 0600).",
)
def callers_add(name: str, path: Path) -> None:
    """Add caller NAME and print its token, once: it is stored only as a hash."""
    from dissemination.service.auth import add_caller  # noqa: PLC0415

    click.echo(add_caller(path, name))


@click.group()
def policy() -> None:
    """Signed policy bundles: make, verify, publish."""


@policy.command("bundle")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path),
    required=True,
    metavar="KEY",
    help="The security team's Ed25519 private key.",
)
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True, metavar="FILE")
@click.option("--revision", default=None, help="The revision (default: from the files' digests).")
def policy_bundle(directory: Path, key_path: Path, out_path: Path, revision: str | None) -> None:
    """Bundle and sign the profile in DIRECTORY."""
    from dissemination.cli._common import atomic_write_lines  # noqa: PLC0415
    from dissemination.integrity import load_private_key  # noqa: PLC0415
    from dissemination.integrity.bundle import make_bundle  # noqa: PLC0415

    bundle = make_bundle(directory, key=load_private_key(key_path), revision=revision)
    atomic_write_lines(out_path, [json.dumps(bundle, ensure_ascii=False, sort_keys=True)])
    click.echo(f"bundle {out_path}: revision `{bundle['manifest']['revision']}`")


@policy.command("verify")
@click.argument("bundle_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust_dir",
    type=click.Path(path_type=Path),
    required=True,
    metavar="DIR",
    help="Trust store of the keys that sign policy.",
)
def policy_verify(bundle_path: Path, trust_dir: Path) -> None:
    """Verify a bundle's signature and files, and that it loads (exit 1 if not)."""
    from dissemination.errors import RefusedError  # noqa: PLC0415
    from dissemination.integrity import load_trust_store  # noqa: PLC0415
    from dissemination.integrity.bundle import (  # noqa: PLC0415
        BundleError,
        load_bundle_policy,
        read_bundle,
        verify_bundle,
    )

    trust = load_trust_store(trust_dir)
    source = str(bundle_path)
    try:
        bundle = verify_bundle(read_bundle(bundle_path), trust, source=source)
        policy = load_bundle_policy(bundle, source=source)
    except BundleError as exc:
        raise RefusedError(str(exc)) from exc
    click.echo(
        f"ok: revision `{bundle.revision}` signed by key {bundle.key}, "
        f"{len(bundle.files)} files, policy {policy.digest}"
    )


@policy.command("publish")
@click.argument("bundle_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--db", "url", required=True, metavar="URL", help="The PostgreSQL database.")
@click.option(
    "--trust",
    "trust_dir",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="Verify against this trust store before publishing.",
)
def policy_publish(bundle_path: Path, url: str, trust_dir: Path | None) -> None:
    """Store a bundle in PostgreSQL and notify every `serve --policy-db` node."""
    from dissemination.integrity import load_trust_store  # noqa: PLC0415
    from dissemination.service.policy_source import publish_bundle  # noqa: PLC0415

    try:
        text = bundle_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("cannot read the bundle", source=str(bundle_path)) from exc
    trust = load_trust_store(trust_dir) if trust_dir is not None else None
    revision = publish_bundle(url, text, trust)
    click.echo(f"published revision `{revision}`")
