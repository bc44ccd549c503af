"""Signing and verifying labels, and the cached check `decide` calls.

`sign_label` signs an item's label (`dissemination.integrity.label`) with the
originator's Ed25519 key; `verify_label` checks it against a trust store. Every
way verification can fail raises the one `InvalidLabelSignature`, whose
`reason` says which (for operators; a reader only ever sees view `none`).

`LabelVerifier` is the `label_check` to give `decide` when the profile sets
`require_signed_labels`: a callable that answers True or False and remembers
its answers by the digest of the whole item, signature included, so a hot
path of repeated decisions pays one Ed25519 verification per item version,
and any change to the item (content, label or signature) misses the cache.
In front of that it remembers, weakly, the very item objects it has answered
for: an item is frozen and every field immutable, so the same object always
has the same content, and asking again about it costs a dictionary look-up
instead of a digest of the whole item.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dissemination.errors import InvalidLabelSignature
from dissemination.integrity.keys import TrustStore, key_id
from dissemination.integrity.label import canonical_label
from dissemination.models import Item, LabelSignature

__all__ = ["CacheInfo", "LabelVerifier", "item_digest", "sign_label", "verify_label"]

ALGORITHM: Final = "Ed25519"


def sign_label(item: Item, key: Ed25519PrivateKey) -> Item:
    """Sign the item's label as its originator, with `key`.

    The signature names the item's originator organisation and the key's id;
    it verifies only against a trust store that holds this key for that
    organisation. Any earlier signature is replaced.

    Args:
        item: the item to sign.
        key: the originator's Ed25519 private key.

    Returns:
        A new item, equal to `item` but for its `signature`.
    """
    organisation = item.originator.organisation
    identifier = key_id(key)
    payload = canonical_label(
        item, organisation=organisation, key_id=identifier, algorithm=ALGORITHM
    )
    signature = LabelSignature(
        algorithm=ALGORITHM,
        organisation=organisation,
        key_id=identifier,
        value=base64.b64encode(key.sign(payload)).decode("ascii"),
    )
    return item.model_copy(update={"signature": signature})


def verify_label(item: Item, trust: TrustStore) -> LabelSignature:
    """Check the item's label signature against the trust store.

    Args:
        item: the signed item.
        trust: which keys may sign for which organisation.

    Returns:
        The signature, verified.

    Raises:
        InvalidLabelSignature: the item is unsigned; the signature names
            another organisation than the originator; the trust store does not
            hold its key for the originator; or it does not match the label
            (a label field, the content or the signature changed).
    """
    signature = item.signature
    if signature is None:
        raise InvalidLabelSignature(
            f"item `{item.id}` has no label signature", item_id=item.id, reason="unsigned"
        )
    originator = item.originator.organisation
    if signature.organisation != originator:
        raise InvalidLabelSignature(
            f"item `{item.id}` is signed for `{signature.organisation}`, "
            f"not for its originator `{originator}`",
            item_id=item.id,
            reason="wrong_organisation",
        )
    public = trust.key_for(originator, signature.key_id)
    if public is None:
        raise InvalidLabelSignature(
            f"item `{item.id}` is signed with key `{signature.key_id}`, "
            f"which the trust store does not hold for `{originator}`",
            item_id=item.id,
            reason="unknown_key",
        )
    payload = canonical_label(
        item, organisation=originator, key_id=signature.key_id, algorithm=signature.algorithm
    )
    try:
        public.verify(base64.b64decode(signature.value), payload)
    except InvalidSignature as exc:
        raise InvalidLabelSignature(
            f"the label signature of item `{item.id}` does not match its label or content",
            item_id=item.id,
            reason="mismatch",
        ) from exc
    return signature


def item_digest(item: Item) -> bytes:
    """The SHA-256 of the whole item, signature included: the verification cache key.

    Args:
        item: the item.

    Returns:
        32 bytes. Any change to any field of the item changes it.
    """
    return hashlib.sha256(item.model_dump_json().encode("utf-8")).digest()


def _forget(seen: dict[int, tuple[weakref.ref[Item], str | None]], key: int, ref: object) -> None:
    # The item is gone: drop its entry, unless its id already names a newer item.
    entry = seen.get(key)
    if entry is not None and entry[0] is ref:
        seen.pop(key, None)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """How a `LabelVerifier`'s cache has done.

    Attributes:
        hits: answers given from the cache.
        misses: answers that needed a verification.
        size: entries held now.
        maxsize: the most entries held.
    """

    hits: int
    misses: int
    size: int
    maxsize: int


class LabelVerifier:
    """A `label_check` for `decide`: True when the item's label verifies.

    Answers are cached (least recently used, thread-safe) by `item_digest`,
    which covers every field and the signature, so a changed item is always
    verified afresh. An item object already answered for is answered by its
    identity, without a digest: items are frozen, so that object's content
    is the content answered for, and a changed item is a new object. These
    entries are held weakly and go with their items. The trust store is fixed
    for the verifier's life: to trust other keys, make a new verifier.
    """

    def __init__(self, trust: TrustStore, *, maxsize: int = 4096) -> None:
        """Create the verifier.

        Args:
            trust: which keys may sign for which organisation.
            maxsize: the most answers remembered (0 turns the cache off).

        Raises:
            ValueError: `maxsize` is negative.
        """
        if maxsize < 0:
            raise ValueError("`maxsize` must not be negative")
        self.trust = trust
        self._maxsize = maxsize
        self._answers: OrderedDict[bytes, str | None] = OrderedDict()
        self._seen: dict[int, tuple[weakref.ref[Item], str | None]] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def failure(self, item: Item) -> str | None:
        """Why the item's label fails, or None when it verifies.

        Args:
            item: the item.

        Returns:
            None when the label verifies, else the `InvalidLabelSignature`
            reason (`unsigned`, `wrong_organisation`, `unknown_key`, `mismatch`).
        """
        if not self._maxsize:
            with self._lock:
                self._misses += 1
            return self._verify(item)
        seen = self._seen.get(id(item))
        if seen is not None and seen[0]() is item:
            with self._lock:
                self._hits += 1
            return seen[1]
        digest = item_digest(item)
        with self._lock:
            cached = digest in self._answers
            if cached:
                self._answers.move_to_end(digest)
                self._hits += 1
                answer = self._answers[digest]
            else:
                self._misses += 1
        if not cached:
            answer = self._verify(item)
            with self._lock:
                self._answers[digest] = answer
                self._answers.move_to_end(digest)
                while len(self._answers) > self._maxsize:
                    self._answers.popitem(last=False)
        key = id(item)
        self._seen[key] = (weakref.ref(item, functools.partial(_forget, self._seen, key)), answer)
        return answer

    def _verify(self, item: Item) -> str | None:
        try:
            verify_label(item, self.trust)
        except InvalidLabelSignature as exc:
            return exc.reason
        return None

    def __call__(self, item: Item) -> bool:
        """Whether the item's label verifies (the `LabelCheck` protocol).

        Args:
            item: the item.

        Returns:
            True when the label verifies against the trust store.
        """
        return self.failure(item) is None

    def cache_info(self) -> CacheInfo:
        """The cache's counters.

        Returns:
            Hits, misses, current and maximum size.
        """
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._answers), self._maxsize)
