"""Who is calling, and who is reading: callers' tokens and the three sources of a reader.

**Callers** are the systems allowed to ask. `add_caller` makes a random token,
prints it once (the caller's operator keeps it) and appends the caller's name
and the token's SHA-256 to the callers file; the token itself is stored
nowhere. A token is 32 random bytes, so a plain hash is enough: nothing can be
guessed from it. The file is created readable by its owner only, and a file
others can read is refused, when adding and when serving.

**Readers** (the principal a decision is for) come, per deployment, from:

- `PropertiesReader`: `subject.properties` is the principal document (the
  caller is a trusted gateway that has already established who the reader is);
- `DirectoryReader`: `subject.id` names a reader in a directory of principal
  files (`--readers DIR`), read once at start;
- `TokenReader`: `subject.properties.token` is the end user's JWT, verified
  against a JWKS file and mapped to a principal by a claims mapping file
  (`--jwks FILE --claims FILE`).

A bad document or token is a `RequestError` (400 or 401) that names the
field, never its value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from dissemination.errors import InputError
from dissemination.loading import load_principals, parse_principal
from dissemination.models import Principal
from dissemination.policy import Policy
from dissemination.service.cache import DocumentCache
from dissemination.service.protocol import RequestError, document_problem

__all__ = [
    "CallerFile",
    "DirectoryReader",
    "PropertiesReader",
    "ReaderSource",
    "TokenReader",
    "add_caller",
    "load_callers",
]

_CALLER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PREFIX = "sha256:"


def _refuse_open_file(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            "others can read or write the callers file; make it 0600 (`chmod 600`)",
            source=str(path),
        )


def _token_hash(token: str) -> str:
    return _PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_caller(path: str | Path, name: str) -> str:
    """Add a caller to the callers file and return its new token (shown once).

    Args:
        path: the callers file (created 0600 when missing).
        name: the caller's name (letters, digits, `.`, `_`, `-`).

    Returns:
        The token: give it to the caller; it is stored nowhere.

    Raises:
        InputError: the name is malformed or already there, or the file
            others can read, or cannot be written.
    """
    path = Path(path)
    if not _CALLER_NAME.match(name):
        raise InputError("a caller name is letters, digits, `.`, `_` and `-`", source=str(path))
    if path.exists():
        _refuse_open_file(path)
        if name in load_callers(path).names:
            raise InputError(f"caller `{name}` is already in the file", source=str(path))
    token = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise InputError(
            f"cannot write ({exc.strerror or type(exc).__name__})", source=str(path)
        ) from exc
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(f"{name} {_token_hash(token)}\n")
        handle.flush()
        os.fsync(handle.fileno())
    return token


@dataclass(frozen=True)
class CallerFile:
    """The callers a service accepts: token hash -> caller name.

    Attributes:
        hashes: `sha256:<hex>` of each token -> the caller's name.
    """

    hashes: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> set[str]:
        """The callers' names."""
        return set(self.hashes.values())

    def caller(self, authorization: str | None) -> str | None:
        """The caller an `Authorization` header authenticates, or None.

        Args:
            authorization: the header's value (`Bearer <token>`), or None.

        Returns:
            The caller's name, or None for a missing, malformed or unknown token.
        """
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = _token_hash(token.strip())
        found = None
        for stored, name in self.hashes.items():  # compare every entry, in constant time
            if hmac.compare_digest(stored, presented):
                found = name
        return found


def load_callers(path: str | Path) -> CallerFile:
    """Read a callers file (`NAME sha256:<hex>` per line; `#` comments).

    Raises:
        InputError: the file is missing, others can read it, or a line is malformed.
    """
    path = Path(path)
    try:
        _refuse_open_file(path)
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("cannot read the callers file", source=str(path)) from exc
    hashes: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, _, digest = text.partition(" ")
        digest = digest.strip()
        if (
            not _CALLER_NAME.match(name)
            or not digest.startswith(_PREFIX)
            or not re.fullmatch(r"[0-9a-f]{64}", digest[len(_PREFIX) :])
        ):
            raise InputError("not `NAME sha256:<64 hex digits>`", source=f"{path}:{number}")
        hashes[digest] = name
    return CallerFile(hashes)


class ReaderSource(Protocol):
    """Where the reader of a decision comes from."""

    kind: str

    def reader(self, subject: Mapping[str, Any], *, where: str, policy: Policy) -> Principal:
        """The principal for an envelope's `subject`.

        Raises:
            RequestError: the subject does not name a usable reader.
        """
        ...


class PropertiesReader:
    """The principal document is `subject.properties` (a trusted gateway sends it).

    Readers are kept by their exact JSON (`DocumentCache`): the same reader
    asking again is the same (frozen) object, so `decide` finds its own kept
    decisions.
    """

    kind = "properties"

    def __init__(self) -> None:
        """Start with no reader kept."""
        self.kept = DocumentCache()

    def reader(self, subject: Mapping[str, Any], *, where: str, policy: Policy) -> Principal:
        """Validate `subject.properties` as a principal.

        Raises:
            RequestError: missing or not a valid principal document (names the
                field), or `subject.id` is not the document's `id`.
        """
        data = subject.get("properties")
        if not isinstance(data, dict):
            raise RequestError(400, "bad_request", f"`{where}.properties` must be an object")
        try:
            principal: Principal = self.kept.get(
                policy.digest, data, lambda: parse_principal(data, policy=policy)
            )
        except InputError as exc:
            raise document_problem(f"{where}.properties", exc) from None
        named = subject.get("id")
        if named is not None and named != principal.id:
            raise RequestError(400, "bad_request", f"`{where}.id` is not `{where}.properties.id`")
        return principal


class DirectoryReader:
    """The reader is looked up by `subject.id` in a directory of principal files."""

    kind = "directory"

    def __init__(self, directory: str | Path, *, policy: Policy) -> None:
        """Read every principal in `directory` once.

        Raises:
            InputError: a file is not a valid principal, or two share an id.
        """
        self.readers: dict[str, Principal] = {}
        for principal in load_principals(directory, policy=policy):
            if principal.id in self.readers:
                raise InputError("two readers share one `id`", source=str(directory))
            self.readers[principal.id] = principal

    def reader(self, subject: Mapping[str, Any], *, where: str, policy: Policy) -> Principal:
        """The reader named by `subject.id`.

        Raises:
            RequestError: no id, or no reader of that id in the directory.
        """
        del policy  # the directory was validated against the starting profile
        name = subject.get("id")
        if not isinstance(name, str):
            raise RequestError(400, "bad_request", f"`{where}.id` must be a string")
        principal = self.readers.get(name)
        if principal is None:
            raise RequestError(400, "unknown_subject", f"`{where}.id` names no known reader")
        return principal


@dataclass(frozen=True)
class ClaimsMapping:
    """How a verified token's claims make a principal.

    Attributes:
        fields: principal field (dotted for nested: `vetting.level`) -> claim name.
        issuer: the `iss` required, if any.
        audience: the `aud` required, if any.
        algorithms: the signature algorithms accepted.
    """

    fields: Mapping[str, str]
    issuer: str | None = None
    audience: str | None = None
    algorithms: tuple[str, ...] = ("EdDSA", "ES256", "RS256")


def load_claims_mapping(path: str | Path) -> ClaimsMapping:
    """Read a claims mapping file (YAML): `claims`, and optional `issuer`, `audience`, `algorithms`.

    Raises:
        InputError: the file is missing or malformed.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError("cannot read the claims mapping as YAML", source=str(path)) from exc
    known = {"claims", "issuer", "audience", "algorithms"}
    if not isinstance(data, dict) or not set(data) <= known:
        raise InputError(f"expected a mapping with keys {sorted(known)}", source=str(path))
    claims = data.get("claims")
    if (
        not isinstance(claims, dict)
        or "id" not in claims
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in claims.items())
    ):
        raise InputError(
            "`claims` must map principal fields (with `id`) to claim names", source=str(path)
        )
    algorithms = data.get("algorithms", ["EdDSA", "ES256", "RS256"])
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        raise InputError("`algorithms` must be a list of names", source=str(path))
    return ClaimsMapping(
        fields=dict(claims),
        issuer=data.get("issuer"),
        audience=data.get("audience"),
        algorithms=tuple(algorithms),
    )


class TokenReader:
    """The reader is the end user of a verified JWT in `subject.properties.token`."""

    kind = "token"

    def __init__(self, jwks_path: str | Path, mapping_path: str | Path) -> None:
        """Read the JWKS file and the claims mapping.

        Raises:
            InputError: either file cannot be used.
        """
        import jwt  # noqa: PLC0415 (the server extra's dependency, imported when used)

        path = Path(jwks_path)
        try:
            self.keys = jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, jwt.PyJWTError, ValueError) as exc:
            raise InputError("not a usable JWKS file", source=str(path)) from exc
        self.mapping = load_claims_mapping(mapping_path)

    def _claims(self, token: str, where: str) -> dict[str, Any]:
        import jwt  # noqa: PLC0415

        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            candidates = [key for key in self.keys.keys if kid is None or key.key_id == kid]
            if not candidates:
                raise jwt.InvalidKeyError("no such key")
            options = {"require": ["exp"]}
            claims: dict[str, Any] = jwt.decode(
                token,
                key=candidates[0],
                algorithms=list(self.mapping.algorithms),
                issuer=self.mapping.issuer,
                audience=self.mapping.audience,
                options=options,  # type: ignore[arg-type]
            )
        except jwt.PyJWTError:
            raise RequestError(
                401, "bad_token", f"`{where}.properties.token` does not verify"
            ) from None
        return claims

    def reader(self, subject: Mapping[str, Any], *, where: str, policy: Policy) -> Principal:
        """Verify the token and map its claims to a principal.

        Raises:
            RequestError: no token (400), a token that does not verify (401),
                or claims that do not make a valid principal (400, naming the
                principal field).
        """
        properties = subject.get("properties")
        token = properties.get("token") if isinstance(properties, dict) else None
        if not isinstance(token, str):
            raise RequestError(400, "bad_request", f"`{where}.properties.token` must be a JWT")
        claims = self._claims(token, where)
        document: dict[str, Any] = {}
        for target, claim in self.mapping.fields.items():
            if claim not in claims:
                continue
            node = document
            *parents, leaf = target.split(".")
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = claims[claim]
        try:
            principal = parse_principal(document, policy=policy)
        except InputError as exc:
            raise document_problem(f"{where}.token claims", exc) from None
        named = subject.get("id")
        if named is not None and named != principal.id:  # as `PropertiesReader` refuses it
            raise RequestError(400, "bad_request", f"`{where}.id` is not the token's reader")
        return principal


def dump_jwks(keys: list[dict[str, Any]]) -> str:
    """A JWKS document (tests and docs build one from public keys)."""
    return json.dumps({"keys": keys})
