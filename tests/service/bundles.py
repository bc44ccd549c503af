"""Policy bundles for the tests: two profiles that decide differently, keys, re-signing."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dissemination.integrity import generate_key
from dissemination.integrity.bundle import make_bundle
from dissemination.integrity.keys import key_id, write_key_pair
from dissemination.policy import DEFAULT_POLICY_DIR

AGENCY_ROW = "p, cap.agency, employment.agency, sanitised, -, deny"


def profiles(root: Path) -> tuple[Path, Path]:
    """The default profile, and a copy that caps agency staff at `pointer`."""
    first = root / "profile-a"
    second = root / "profile-b"
    shutil.copytree(DEFAULT_POLICY_DIR, first)
    shutil.copytree(DEFAULT_POLICY_DIR, second)
    rows = (second / "policy.csv").read_text()
    assert AGENCY_ROW in rows
    (second / "policy.csv").write_text(
        rows.replace(AGENCY_ROW, "p, cap.agency, employment.agency, pointer, -, deny")
    )
    return first, second


def security_key(root: Path) -> tuple[Ed25519PrivateKey, Path, Path]:
    """A security-team key: (key, private key file, trust store directory)."""
    key = generate_key()
    keys = root / "keys"
    trust = root / "policy-trust"
    keys.mkdir()
    trust.mkdir()
    private, public = write_key_pair(key, organisation="security-team", directory=keys)
    shutil.copy(public, trust / public.name)
    return key, private, trust


def write_bundle(path: Path, document: dict[str, Any]) -> None:
    """Write a bundle document so a watcher sees the change (a new file renamed over)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document))
    temporary.replace(path)


def bundle(directory: Path, key: Ed25519PrivateKey, revision: str) -> dict[str, Any]:
    """A signed bundle of `directory`."""
    return make_bundle(directory, key=key, revision=revision)


def resign(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document with its manifest recomputed from its files and signed again."""
    files = document["files"]
    manifest = dict(document["manifest"])
    manifest["files"] = {
        name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()
    }
    signature = key.sign(rfc8785.dumps(manifest))
    return {
        **document,
        "manifest": manifest,
        "signature": {
            "key": key_id(key.public_key()),
            "value": base64.b64encode(signature).decode(),
        },
    }
