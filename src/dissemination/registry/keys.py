"""The blind index: keyed digests of identifiers, and the keys that make them.

The registry stores `HMAC-SHA256(key, type, canonical identifier)` and never
the identifier: without the key a digest cannot be tested against guesses (a
vehicle registration or a date of birth is easy to guess; an HMAC under a
secret key is not). Each key has a short public id; the registry records the
ids of its keys and a check value of each, so a wrong key is refused before it
can make every lookup miss.

Re-keying wraps: after `rekey` with key `k2`, a digest is
`HMAC(k2, HMAC(k1, identifier))`. The database alone holds everything needed
(no identifier is ever read back), no entry is lost, and a leaked `k1` alone
no longer lets anyone test guesses against the database. The old keys stay in
the key ring: they are needed to compute a digest, and retiring one means
registering the items again under a fresh registry.

Key entries are `ID:SECRET`, the secret 32 or more random bytes in URL-safe
base64, one per line (or separated by commas in the environment variable),
oldest first; `#` starts a comment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dissemination.errors import RegistryKeyError
from dissemination.identifiers import NormalisedIdentifier

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KeyRing",
    "RegistryKey",
    "chain_matches",
    "generate_key",
    "load_keys",
    "parse_keys",
]

KEY_ENV: Final = "DISSEMINATION_REGISTRY_KEY"
"""Environment variable holding key entries (`ID:SECRET`, comma separated)."""

KEY_FILE_ENV: Final = "DISSEMINATION_REGISTRY_KEY_FILE"
"""Environment variable naming a key file."""

MIN_SECRET_BYTES: Final = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DIGEST_DOMAIN: Final = b"dissemination/registry/digest/v1\x00"
_WRAP_DOMAIN: Final = b"dissemination/registry/wrap/v1\x00"
_CHECK_DOMAIN: Final = b"dissemination/registry/key-check/v1"


@dataclass(frozen=True, slots=True)
class RegistryKey:
    """One blind-index key.

    Attributes:
        id: the key's public id, recorded in the registry.
        secret: the key material (never printed).
    """

    id: str
    secret: bytes = field(repr=False)

    @property
    def check(self) -> str:
        """A check value of the key: tells a wrong key from the right one, reveals nothing."""
        return hmac.new(self.secret, _CHECK_DOMAIN, hashlib.sha256).hexdigest()

    def wrap(self, digest: str) -> str:
        """Re-key one digest under this key (`rekey`).

        Args:
            digest: a hex digest made under the previous keys.

        Returns:
            The hex digest under this key.
        """
        return hmac.new(
            self.secret, _WRAP_DOMAIN + bytes.fromhex(digest), hashlib.sha256
        ).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The registry's keys, oldest first.

    Attributes:
        keys: the keys, in the order they were put to use.
        source: where they were read from (for messages; never the secrets).
    """

    keys: tuple[RegistryKey, ...]
    source: str = "<keys>"

    def __iter__(self) -> Iterator[RegistryKey]:
        """The keys, oldest first."""
        return iter(self.keys)

    @property
    def ids(self) -> tuple[str, ...]:
        """The key ids, oldest first."""
        return tuple(key.id for key in self.keys)

    def digest(self, identifier: NormalisedIdentifier, *, depth: int | None = None) -> str:
        """The blind-index digest of an identifier under the first `depth` keys.

        Args:
            identifier: the normalised identifier.
            depth: how many keys, oldest first, the registry uses (all when None).

        Returns:
            64 hex characters.
        """
        chain = self.keys if depth is None else self.keys[:depth]
        message = b"%s%s\x00%s" % (
            _DIGEST_DOMAIN,
            identifier.type.encode(),
            identifier.canonical.encode(),
        )
        digest = hmac.new(chain[0].secret, message, hashlib.sha256).hexdigest()
        for key in chain[1:]:
            digest = key.wrap(digest)
        return digest


def _secret(text: str, *, key_id: str, where: str) -> bytes:
    try:
        secret = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise RegistryKeyError(f"key `{key_id}` is not URL-safe base64", target=where) from None
    if len(secret) < MIN_SECRET_BYTES:
        raise RegistryKeyError(
            f"key `{key_id}` is too short ({len(secret)} bytes, at least {MIN_SECRET_BYTES})",
            target=where,
        )
    return secret


def parse_keys(text: str, *, source: str) -> KeyRing:
    """Read key entries (`ID:SECRET`, one per line or comma separated).

    Args:
        text: the entries.
        source: where they came from, for messages.

    Returns:
        The key ring, oldest first.

    Raises:
        RegistryKeyError: an entry is malformed, an id repeats, or there is no key.
    """
    keys: list[RegistryKey] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for raw in line.split("#", 1)[0].split(","):
            entry = raw.strip()
            if not entry:
                continue
            key_id, colon, secret = entry.partition(":")
            where = f"{source}:{number}" if "\n" in text.strip() else source
            if not colon or not _KEY_ID.match(key_id):
                raise RegistryKeyError(
                    "a key entry must be `ID:SECRET`, the id of letters, digits and `._-`",
                    target=where,
                )
            if any(key.id == key_id for key in keys):
                raise RegistryKeyError(f"key `{key_id}` is given twice", target=where)
            keys.append(RegistryKey(key_id, _secret(secret.strip(), key_id=key_id, where=where)))
    if not keys:
        raise RegistryKeyError("no key in it", target=source)
    return KeyRing(tuple(keys), source)


def _read_key_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO would be waited on, a device read forever
            raise RegistryKeyError("the key file is not a regular file", target=str(path))
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise RegistryKeyError(
                "the key file can be read by other users (chmod 600 it)", target=str(path)
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryKeyError("no such key file", target=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryKeyError(
            f"cannot read the key file ({type(exc).__name__})", target=str(path)
        ) from exc


def load_keys(
    key_file: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> KeyRing:
    """Find the registry's keys: `key_file`, else the key file or keys in the environment.

    Args:
        key_file: a key file; overrides the environment.
        environ: the environment to read (the process's when None).

    Returns:
        The key ring.

    Raises:
        RegistryKeyError: no key is configured, the file cannot be read or is
            readable by other users, or an entry is malformed.
    """
    environ = os.environ if environ is None else environ
    if key_file is None and environ.get(KEY_FILE_ENV):
        key_file = environ[KEY_FILE_ENV]
    if key_file is not None:
        path = Path(key_file)
        return parse_keys(_read_key_file(path), source=str(path))
    if environ.get(KEY_ENV):
        return parse_keys(environ[KEY_ENV], source=f"${KEY_ENV}")
    raise RegistryKeyError(
        f"no registry key: set `{KEY_ENV}` or `{KEY_FILE_ENV}`, or pass `--key-file`",
        target="<keys>",
    )


def generate_key(key_id: str) -> str:
    """A new key entry, `ID:SECRET`, with 32 random bytes from the OS.

    Args:
        key_id: the new key's id.

    Returns:
        The entry, ready to append to a key file.

    Raises:
        RegistryKeyError: the id is not letters, digits and `._-`.
    """
    if not _KEY_ID.match(key_id):
        raise RegistryKeyError(
            "a key id is letters, digits and `._-`, at most 64", target="<new key>"
        )
    secret = base64.urlsafe_b64encode(secrets.token_bytes(MIN_SECRET_BYTES)).decode("ascii")
    return f"{key_id}:{secret.rstrip('=')}"


def chain_matches(ring: KeyRing, recorded: Sequence[tuple[str, str]]) -> int:
    """Check the key ring against the ids and check values the registry recorded.

    Args:
        ring: the keys given.
        recorded: the registry's `(id, check)` pairs, oldest first.

    Returns:
        How many keys of the ring the registry uses (`len(recorded)`).

    Raises:
        RegistryKeyError: a recorded key is missing from the ring, in another
            place, or has another secret.
    """
    for position, (key_id, check) in enumerate(recorded):
        if position >= len(ring.keys) or ring.keys[position].id != key_id:
            expected = ", ".join(f"`{kid}`" for kid, _ in recorded)
            given = ", ".join(f"`{kid}`" for kid in ring.ids) or "none"
            raise RegistryKeyError(
                f"the registry is keyed with {expected} (oldest first), the keys given are {given}",
                target=ring.source,
            )
        if not hmac.compare_digest(ring.keys[position].check, check):
            raise RegistryKeyError(
                f"key `{key_id}` is not the key this registry was keyed with", target=ring.source
            )
    return len(recorded)
