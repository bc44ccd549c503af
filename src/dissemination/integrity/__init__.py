"""Integrity: labels bound to content by an Ed25519 signature, and the keys that sign them.

- `label`: what a signature covers, as canonical JSON (RFC 8785);
- `keys`: generating, reading and naming Ed25519 keys; the trust store;
- `signing`: `sign_label`, `verify_label` and the cached `LabelVerifier`
  that `decide` calls when a profile sets `require_signed_labels`.

The disclosure trail, the other half of integrity, is `dissemination.audit`.
"""

from dissemination.integrity.keys import (
    TrustStore,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    load_trust_store,
    write_key_pair,
)
from dissemination.integrity.label import canonical_label, label
from dissemination.integrity.signing import (
    CacheInfo,
    LabelVerifier,
    item_digest,
    sign_label,
    verify_label,
)

__all__ = [
    "CacheInfo",
    "LabelVerifier",
    "TrustStore",
    "canonical_label",
    "generate_key",
    "item_digest",
    "key_id",
    "label",
    "load_private_key",
    "load_public_key",
    "load_trust_store",
    "sign_label",
    "verify_label",
    "write_key_pair",
]
