"""Ed25519 keys: generating, reading and naming them, and the trust store.

The key adapter (DESIGN §3): every `cryptography` error about a key file is
translated here into one `KeyFileError` naming the file.

A key's id is derived from the key itself (the first 16 bytes of the SHA-256
of its raw public bytes, in hex), so an id can never disagree with its key.

A **trust store** is a directory of PEM files, one per organisation, named
after it: `border-force.pem` holds the public keys trusted to sign labels for
`border-force`. A file may hold several `PUBLIC KEY` blocks (a new key next to
the one it replaces). Anything else in a `.pem` file of the store, a private
key above all, is an error: a trust store holds public keys only.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from dissemination.errors import InputError, KeyFileError
from dissemination.parsing import open_regular

# A trust file of thousands of keys is far smaller; anything larger is not a key file.
_MAX_KEY_FILE_BYTES = 1 << 20

__all__ = [
    "PRIVATE_KEY_MODE",
    "TrustStore",
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "load_trust_store",
    "private_key_pem",
    "public_key_pem",
    "write_key_pair",
]

PRIVATE_KEY_MODE = 0o600
"""A private key file is readable and writable by its owner only."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", flags=re.DOTALL)
_ORGANISATION_FILE = re.compile(r"^[^/\\\x00]+$")


def generate_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key.

    Returns:
        The key.
    """
    return Ed25519PrivateKey.generate()


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The id of a key: 32 hex digits of the SHA-256 of its raw public bytes.

    Args:
        key: a public key, or a private key (its public half is named).

    Returns:
        The key id.
    """
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM (keep it in a 0600 file).

    Args:
        key: the private key.

    Returns:
        The PEM bytes.
    """
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The public key as SubjectPublicKeyInfo PEM.

    Args:
        key: a public key, or a private key (its public half is written).

    Returns:
        The PEM bytes.
    """
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read_bytes(path: Path) -> bytes:
    # A regular file only: a FIFO or a device is refused at once, never waited on.
    try:
        with open_regular(path) as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except InputError as exc:
        detail = exc.detail.replace("expected a file", "expected a key file")
        raise KeyFileError(detail, source=str(path)) from None
    except OSError as exc:
        raise KeyFileError(
            f"cannot read ({exc.strerror or type(exc).__name__})", source=str(path)
        ) from exc
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"larger than {_MAX_KEY_FILE_BYTES} bytes", source=str(path))
    return data


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from an unencrypted PEM file.

    Args:
        path: the key file (as `keys generate` writes it).

    Returns:
        The key.

    Raises:
        KeyFileError: the file is missing, unreadable, not a PEM private key,
            encrypted, or holds a key of another type.
    """
    path = Path(path)
    data = _read_bytes(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise KeyFileError("the private key is encrypted", source=str(path)) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError("not a PEM private key", source=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(
            f"not an Ed25519 private key (found `{_key_type(key)}`)", source=str(path)
        )
    return key


def _key_type(key: object) -> str:
    return type(key).__name__.removeprefix("_").removesuffix("PrivateKey").removesuffix("PublicKey")


def _public_key(block: bytes, *, source: str, index: int) -> Ed25519PublicKey:
    where = f"key {index}: "
    if b"PRIVATE KEY-----" in block.split(b"\n", 1)[0]:
        raise KeyFileError(where + "a private key; share only public keys", source=source)
    try:
        key = serialization.load_pem_public_key(block)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(where + "not a PEM public key", source=source) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(
            where + f"not an Ed25519 public key (found `{_key_type(key)}`)", source=source
        )
    return key


def _public_keys(path: Path) -> list[Ed25519PublicKey]:
    data = _read_bytes(path)
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise KeyFileError("holds no PEM block", source=str(path))
    return [
        _public_key(block, source=str(path), index=index)
        for index, block in enumerate(blocks, start=1)
    ]


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Read one Ed25519 public key from a PEM file.

    Args:
        path: the public key file.

    Returns:
        The key (the first, when the file holds several).

    Raises:
        KeyFileError: the file is missing, unreadable, not PEM, holds a private
            key, or a key of another type.
    """
    return _public_keys(Path(path))[0]


@dataclass(frozen=True, slots=True)
class TrustStore:
    """Which public keys may sign labels for which organisation.

    Attributes:
        keys: organisation -> key id -> public key.
        source: where the store was read from, for messages.
    """

    keys: Mapping[str, Mapping[str, Ed25519PublicKey]]
    source: str = "<trust store>"

    def key_for(self, organisation: str, key: str) -> Ed25519PublicKey | None:
        """The public key `key` trusted for `organisation`, or None.

        Args:
            organisation: the organisation the signature claims.
            key: the key id the signature names.

        Returns:
            The public key, or None when the store does not trust that key for
            that organisation.
        """
        return self.keys.get(organisation, {}).get(key)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Every (organisation, key id) pair the store trusts, sorted."""
        for organisation in sorted(self.keys):
            for identifier in sorted(self.keys[organisation]):
                yield organisation, identifier

    @classmethod
    def of(cls, keys: Mapping[str, list[Ed25519PublicKey | Ed25519PrivateKey]]) -> TrustStore:
        """A trust store built in memory (tests, embedding applications).

        Args:
            keys: organisation -> its keys (the public half of a private key is used).

        Returns:
            The store.
        """
        table: dict[str, dict[str, Ed25519PublicKey]] = {}
        for organisation, org_keys in keys.items():
            for key in org_keys:
                public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
                table.setdefault(organisation, {})[key_id(public)] = public
        return cls(keys=table)


def load_trust_store(directory: str | Path) -> TrustStore:
    """Read a trust store: a directory of `<organisation>.pem` public key files.

    Files that do not end in `.pem` are ignored (a README, say).

    Args:
        directory: the trust store directory.

    Returns:
        The store.

    Raises:
        KeyFileError: the directory is missing or holds no `.pem` file, or a
            file is unreadable or holds anything but Ed25519 public keys.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise KeyFileError("no such directory (the trust store)", source=str(directory))
    table: dict[str, dict[str, Ed25519PublicKey]] = {}
    for path in sorted(directory.glob("*.pem")):
        if not path.is_file():
            continue
        organisation = path.name.removesuffix(".pem")
        table[organisation] = {key_id(key): key for key in _public_keys(path)}
    if not table:
        raise KeyFileError("the trust store holds no `.pem` file", source=str(directory))
    return TrustStore(keys=table, source=str(directory))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError("already exists; not overwritten", source=str(path)) from None
    except OSError as exc:
        raise KeyFileError(
            f"cannot write ({exc.strerror or type(exc).__name__})", source=str(path)
        ) from exc
    with os.fdopen(descriptor, "wb") as handle:
        # The mode given to open is filtered by the umask; make it exact.
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_key_pair(
    key: Ed25519PrivateKey, *, organisation: str, directory: str | Path
) -> tuple[Path, Path]:
    """Write `<organisation>.key` (mode 0600) and `<organisation>.pem` into `directory`.

    Neither file is overwritten: an existing one is an error, and when the
    public file cannot be written the new private key is removed again.

    Args:
        key: the private key.
        organisation: the organisation it signs for (names the files).
        directory: where to write; must exist.

    Returns:
        The private key path and the public key path.

    Raises:
        KeyFileError: the organisation cannot name a file, or a file exists
            or cannot be written.
    """
    if not _ORGANISATION_FILE.match(organisation) or organisation.startswith("."):
        raise KeyFileError(f"organisation `{organisation}` cannot name a key file")
    directory = Path(directory)
    private_path = directory / f"{organisation}.key"
    public_path = directory / f"{organisation}.pem"
    if public_path.exists():
        raise KeyFileError("already exists; not overwritten", source=str(public_path))
    _write_new(private_path, private_key_pem(key), PRIVATE_KEY_MODE)
    try:
        _write_new(public_path, public_key_pem(key), 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path
