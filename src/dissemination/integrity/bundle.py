"""Signed policy bundles: a profile directory that travels between nodes.

A bundle is one JSON document:

    {"format": "dissemination/policy-bundle/1",
     "manifest": {"format": ..., "revision": "r42", "created": "...Z",
                  "files": {"model.conf": "<sha256 hex>", ...}},
     "files": {"model.conf": "<text>", ...},
     "signature": {"key": "<key id>", "value": "<base64 Ed25519 signature>"}}

The signature covers the manifest as canonical JSON (RFC 8785); the manifest
covers each file by its SHA-256. A bundle is *verified* when its signature was
made by a key of the trust store and every file matches its digest, no more
and no fewer files than the manifest names. Only a verified bundle is loaded
(`load_bundle_policy`), and a node activates it only when it also loads as a
profile. Every failure, whatever its cause, is one `BundleError` whose message
names the kind of problem, never the content of a file.

Keys are the integrity package's Ed25519 keys (`integrity.keys`): the security
team signs with a private key made by `dissemination keys generate`, and nodes
trust its public half in a trust store directory.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dissemination.errors import DisseminationError
from dissemination.integrity.keys import TrustStore, key_id
from dissemination.policy import Policy, load_policy

__all__ = [
    "BUNDLE_FORMAT",
    "Bundle",
    "BundleError",
    "load_bundle_policy",
    "make_bundle",
    "read_bundle",
    "verify_bundle",
]

BUNDLE_FORMAT = "dissemination/policy-bundle/1"
"""The version of the bundle document."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$")
_MAX_BYTES = 4 * 1024 * 1024


class BundleError(DisseminationError):
    """A policy bundle that cannot be used: unreadable, malformed, unsigned or tampered.

    Like `InvalidLabelSignature`, every way verification can fail is this one
    error; `reason` says which, for operators.

    Attributes:
        reason: `malformed`, `unsigned`, `unknown_key`, `mismatch` (signature or
            file digest), or `unloadable` (verified but not a valid profile).
        source: the bundle's file or database row, for messages.
    """

    def __init__(self, message: str, *, reason: str, source: str) -> None:
        """Create the error.

        Args:
            message: one lowercase line naming the problem.
            reason: which kind of failure.
            source: where the bundle came from.
        """
        self.reason = reason
        self.source = source
        super().__init__(f"{source}: {message}")


@dataclass(frozen=True, slots=True)
class Bundle:
    """A verified bundle.

    Attributes:
        revision: the revision the security team gave it.
        created: when it was made (as written in the manifest).
        key: the id of the key that signed it.
        files: file name -> text.
        digest: SHA-256 of the canonical manifest (`sha256:<hex>`), one name for the bundle.
    """

    revision: str
    created: str
    key: str
    files: Mapping[str, str]
    digest: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_bundle(
    directory: str | Path,
    *,
    key: Ed25519PrivateKey,
    revision: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Bundle and sign the profile in `directory` (its top-level files).

    The profile is loaded first: a bundle that would not load is refused here,
    not on every node.

    Args:
        directory: the profile directory.
        key: the security team's Ed25519 private key.
        revision: the bundle's revision (default: the first 12 hex digits of
            the manifest's files' digest).
        now: the creation time (default: the clock, UTC).

    Returns:
        The bundle document (JSON-ready).

    Raises:
        BundleError: the directory is not a loadable profile, a file is not
            UTF-8, or the revision is malformed.
    """
    directory = Path(directory)
    source = str(directory)
    try:
        load_policy(directory)
    except DisseminationError as exc:
        raise BundleError(
            f"not a loadable profile ({exc})", reason="unloadable", source=source
        ) from exc
    files: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith(".") or not _NAME.match(path.name):
            continue
        try:
            files[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleError(
                f"cannot read `{path.name}` as UTF-8 text", reason="malformed", source=source
            ) from exc
    digests = {name: _sha256(text) for name, text in files.items()}
    if revision is None:
        revision = hashlib.sha256(rfc8785.dumps(digests)).hexdigest()[:12]
    if not _REVISION.match(revision):
        raise BundleError("the revision is not a short name", reason="malformed", source=source)
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "revision": revision,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": digests,
    }
    signature = key.sign(rfc8785.dumps(manifest))
    return {
        "format": BUNDLE_FORMAT,
        "manifest": manifest,
        "files": files,
        "signature": {
            "key": key_id(key.public_key()),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


def read_bundle(path: str | Path) -> Any:
    """Read a bundle file as JSON (not yet verified).

    Raises:
        BundleError: the file is missing, too large or not JSON.
    """
    path = Path(path)
    try:
        # Read no more than a bundle can be (a bundle path made a link to an
        # endless file must not fill the memory); a FIFO or device is refused
        # without waiting on it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise BundleError("not a regular file", reason="malformed", source=str(path))
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise BundleError(
            f"cannot read ({exc.strerror or type(exc).__name__})",
            reason="malformed",
            source=str(path),
        ) from exc
    return parse_bundle(data, source=str(path))


def parse_bundle(data: bytes | str, *, source: str) -> Any:
    """Parse bundle bytes as JSON (not yet verified).

    Raises:
        BundleError: too large or not JSON.
    """
    if len(data) > _MAX_BYTES:
        raise BundleError("larger than a policy bundle can be", reason="malformed", source=source)
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting too
        raise BundleError("not JSON", reason="malformed", source=source) from exc


def _field(data: Any, name: str, kind: type, source: str) -> Any:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        raise BundleError(f"`{name}` is missing or malformed", reason="malformed", source=source)
    return value


def verify_bundle(data: Any, trust: TrustStore, *, source: str = "<bundle>") -> Bundle:
    """Verify a bundle's signature and every file's digest.

    Any key of the trust store may sign bundles: keep a trust store of the
    security team's keys for this, apart from the label signers'.

    Args:
        data: the parsed bundle document.
        trust: the keys trusted to sign policy.
        source: where it came from, for messages.

    Returns:
        The verified bundle.

    Raises:
        BundleError: the bundle is malformed, unsigned, signed by an unknown
            key, or its signature or a file does not match.
    """
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            "not a policy bundle of a known format", reason="malformed", source=source
        )
    manifest = _field(data, "manifest", dict, source)
    files = _field(data, "files", dict, source)
    signature = data.get("signature")
    if not isinstance(signature, dict):
        raise BundleError("the bundle is not signed", reason="unsigned", source=source)
    key_name = _field(signature, "key", str, source)
    value = _field(signature, "value", str, source)
    public = next(
        (trust.key_for(org, key_name) for org, kid in trust if kid == key_name),
        None,
    )
    if public is None:
        raise BundleError(
            "signed by a key the trust store does not hold", reason="unknown_key", source=source
        )
    try:
        public.verify(base64.b64decode(value, validate=True), rfc8785.dumps(manifest))
    except (InvalidSignature, binascii.Error, ValueError, TypeError) as exc:
        raise BundleError(
            "the signature does not match the manifest", reason="mismatch", source=source
        ) from exc
    if manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError("the manifest's format is unknown", reason="malformed", source=source)
    revision = _field(manifest, "revision", str, source)
    created = _field(manifest, "created", str, source)
    digests = _field(manifest, "files", dict, source)
    if set(digests) != set(files):
        raise BundleError(
            "the files are not those the manifest names", reason="mismatch", source=source
        )
    for name, text in files.items():
        if not isinstance(text, str) or not _NAME.match(name) or digests[name] != _sha256(text):
            raise BundleError(
                f"file `{name}` does not match its digest", reason="mismatch", source=source
            )
    digest = "sha256:" + hashlib.sha256(rfc8785.dumps(manifest)).hexdigest()
    return Bundle(
        revision=revision, created=created, key=key_name, files=dict(files), digest=digest
    )


def load_bundle_policy(bundle: Bundle, *, source: str = "<bundle>") -> Policy:
    """Load a verified bundle's profile (from a private temporary directory).

    Args:
        bundle: a bundle `verify_bundle` returned.
        source: where it came from, for messages.

    Returns:
        The policy.

    Raises:
        BundleError: the files do not load as a profile (`unloadable`).
    """
    with tempfile.TemporaryDirectory(prefix="dissemination-bundle-") as directory:
        for name, text in bundle.files.items():
            (Path(directory) / name).write_text(text, encoding="utf-8")
        try:
            return load_policy(directory)
        except DisseminationError as exc:
            problem = str(exc).replace(directory, "<bundle>")
            raise BundleError(
                f"does not load as a profile ({problem})", reason="unloadable", source=source
            ) from exc
