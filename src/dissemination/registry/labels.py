"""What the registry keeps of an item: its label, sealed under the registry key.

A lookup must decide each reader's view of every item linked to a subject, and
show the grading conditions masked for that reader exactly as `view` masks
them (issue 10, item 1). Masking a condition needs the values of the subjects
it may mention, so the registry keeps the item *label*: everything the
decision and the masking read (classification, required vetting, originator,
owner, handling, grading with its conditions, consents, the category and
marking of every portion, every subject whole) and nothing else: the title
and every portion text become `-`.

That label holds subject values and conditions, so it is never stored in
clear. It is *sealed*: AES-256-GCM under a key derived (HKDF-SHA256) from the
newest blind-index key of the registry's chain when the item was registered,
with the item id as associated data (a sealed label moved to another item's
row does not open). The nonce is derived from the label (HMAC under the same
derived key), so registering the same item again stores the very same text
and changes nothing, and two different labels never share a nonce.

The stored text is `s1:<key id>:<base64url>`. Anyone holding the database
without the key file reads ids, times and owners, never a condition, a
subject value or a handling instruction; a label that does not open (another
key, a changed byte, the unsealed JSON of schema 1) is shown to nobody.

Alternative considered: per-reader-class precomputed masks. The masking of a
condition depends on which subjects the reader fails, and that depends on the
reader's vetting, organisation, groups, nationality and the day (a marking's
handling); the classes cannot be enumerated at registration. Sealing keeps the
one decision and masking code path (`decide`, then the renderer's conditions)
and makes a lookup equal to `view`, not an approximation of it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import zlib
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from dissemination.models import Item, Portion
from dissemination.policy import Policy
from dissemination.registry.keys import KeyRing, RegistryKey

__all__ = ["BLANK", "SEAL_PREFIX", "item_label", "label_key_id", "open_label", "seal_label"]

BLANK: Final = "-"
"""What replaces the title and every portion text."""

SEAL_PREFIX: Final = "s1"
"""The first field of a sealed label (the sealing scheme's version)."""

_INFO: Final = b"dissemination/registry/label/v1"
_NONCE: Final = 12


@functools.lru_cache(maxsize=16)
def _cipher(secret: bytes) -> tuple[AESGCM, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(secret)
    return AESGCM(derived[:32]), derived[32:]


def _blank_portion(index: int, portion: Portion) -> Portion:
    return portion.model_copy(update={"id": f"p{index + 1}", "text": BLANK})


def item_label(item: Item) -> Item:
    """The item with its title and portion texts blanked: what the registry seals and keeps.

    Args:
        item: the item.

    Returns:
        The label, an `Item` that decides, and masks the conditions, as the original does.
    """
    return item.model_copy(
        update={
            "title": BLANK,
            "portions": tuple(
                _blank_portion(index, portion) for index, portion in enumerate(item.portions)
            ),
        }
    )


def _plain(item: Item) -> bytes:
    data = item_label(item).model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return zlib.compress(text.encode(), 9)


def seal_label(item: Item, key: RegistryKey) -> str:
    """The stored form of an item's label: compact JSON, compressed, sealed under `key`.

    Args:
        item: the item (its label is taken here).
        key: the newest key of the registry's chain.

    Returns:
        `s1:<key id>:<base64url of nonce and ciphertext>`; the same text for the same label.
    """
    cipher, nonce_key = _cipher(key.secret)
    plain = _plain(item)
    associated = item.id.encode()
    nonce = hmac.new(nonce_key, associated + b"\x00" + plain, hashlib.sha256).digest()[:_NONCE]
    sealed = nonce + cipher.encrypt(nonce, plain, associated)
    return f"{SEAL_PREFIX}:{key.id}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"


def label_key_id(text: str) -> str | None:
    """The id of the key a stored label is sealed under (None: not a sealed label).

    Args:
        text: the stored label.

    Returns:
        The key id.
    """
    scheme, _, rest = text.partition(":")
    key_id, colon, _ = rest.partition(":")
    return key_id if scheme == SEAL_PREFIX and colon else None


def open_label(text: str, item_id: str, keys: KeyRing, *, policy: Policy) -> Item | None:
    """Open a stored label and validate it against `policy`'s vocabulary.

    Args:
        text: the stored label.
        item_id: the id of the row it was read from (the associated data).
        keys: the registry's keys.
        policy: the profile the lookup decides by.

    Returns:
        The label, or None when it does not open (another key, a changed
        byte, another row's label, an unsealed label of schema 1) or does not
        validate under this profile: such an item is shown to nobody.
    """
    key_id = label_key_id(text)
    key = next((key for key in keys if key.id == key_id), None)
    if key is None:
        return None
    cipher, _ = _cipher(key.secret)
    try:
        sealed = base64.urlsafe_b64decode(text[len(SEAL_PREFIX) + len(key.id) + 2 :])
        plain = cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], item_id.encode())
        label = Item.model_validate_json(
            zlib.decompress(plain), context={"vocabulary": policy.vocabulary}
        )
    except (ValueError, binascii.Error, InvalidTag, zlib.error, ValidationError):
        return None
    return label if label.id == item_id else None
