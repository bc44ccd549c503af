"""Disclosure records, their hash chain, and signed checkpoints of its head.

A record says who was shown what, and nothing that was withheld: the time,
the reader's id, the item's id, the view, the ids of the portions and subjects
shown, the rule ids of the reasons and the policy digest. Each record carries
its sequence number, the hash of the record before it (`prev`; 64 zeros for
the first) and its own `hash`: the SHA-256 of the record without `hash`, as
canonical JSON (RFC 8785). Changing, removing, reordering or inserting a record
breaks the chain at that point.

A hash chain alone can be rewritten wholesale by someone who rehashes every
record after the one they change. A **checkpoint** stops that: the chain's
head (a sequence number and its hash), signed with the trail's Ed25519 key,
written at a fixed interval to a separate place (and best copied off the host).
A chain that no longer reaches a checkpoint's record, or reaches it with
another hash, was truncated or rewritten.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from dissemination.decision import Decision
from dissemination.integrity.keys import key_id
from dissemination.models import Item
from dissemination.vocabulary import View

__all__ = [
    "CHECKPOINT_FORMAT",
    "GENESIS",
    "Checkpoint",
    "Checkpointer",
    "Disclosure",
    "DisclosureRecord",
    "canonical",
    "chain",
    "checkpoint_payload",
    "record_hash",
    "utc_text",
]

GENESIS = "0" * 64
"""The `prev` of the first record."""

CHECKPOINT_FORMAT = "dissemination/checkpoint/1"
"""The version of the signed checkpoint payload."""

Digest = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]


def canonical(data: Any) -> bytes:
    """Data as canonical JSON (RFC 8785): one line, UTF-8, keys sorted.

    Args:
        data: JSON-ready data.

    Returns:
        The bytes.
    """
    return rfc8785.dumps(data)


def record_hash(data: Mapping[str, Any]) -> str:
    """The hash of a record: SHA-256 of its canonical JSON without `hash`.

    Args:
        data: the record as parsed JSON (as written, not as a model).

    Returns:
        64 hex digits.
    """
    body = {key: value for key, value in data.items() if key != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def utc_text(moment: dt.datetime) -> str:
    """A time as written in the trail: UTC, microseconds, `Z`.

    Args:
        moment: a time with a zone.

    Returns:
        `2026-11-27T10:00:00.000000Z`.
    """
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What one decision disclosed, before it is chained.

    Attributes:
        time: when, as `utc_text` writes it.
        reader: the reader's id.
        item: the item's id.
        view: the view's name (never `none`: nothing disclosed, nothing written).
        portions: the ids of the portions shown.
        subjects: the ids of the subjects shown (`s<n>` for one without an id).
        rules: the rule ids of the reasons.
        policy: the digest of the policy that decided.
        decision_id: the id the service answered the decision under, if any.
    """

    time: str
    reader: str
    item: str
    view: str
    portions: tuple[str, ...]
    subjects: tuple[str, ...]
    rules: tuple[str, ...]
    policy: str
    decision_id: str | None = None

    @classmethod
    def of(
        cls, item: Item, decision: Decision, *, at: dt.datetime, decision_id: str | None = None
    ) -> Disclosure:
        """What `decision` disclosed of `item`.

        Args:
            item: the item decided on.
            decision: the decision (its withheld parts and facts are not taken).
            at: when it was disclosed, with a zone.
            decision_id: the id the decision was answered under (the service's).

        Returns:
            The disclosure.

        Raises:
            ValueError: the decision is for another item, or at view `none`.
        """
        if decision.item_id != item.id:
            raise ValueError("the decision is for another item")
        if decision.view is View.NONE:
            raise ValueError("a decision at `none` discloses nothing")
        return cls(
            time=utc_text(at),
            reader=decision.reader_id,
            item=item.id,
            view=decision.view.label,
            portions=decision.portions,
            subjects=tuple(item.subject_key(index) for index in decision.subjects),
            rules=decision.rules,
            policy=decision.policy,
            decision_id=decision_id,
        )


class DisclosureRecord(BaseModel):
    """One record of the trail, as written.

    Attributes:
        seq: its position in the chain, from 1.
        prev: the hash of record `seq - 1` (`GENESIS` for the first).
        hash: its own hash (`record_hash`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: StrictInt = Field(ge=1)
    time: StrictStr
    reader: StrictStr
    item: StrictStr
    view: StrictStr
    portions: tuple[StrictStr, ...]
    subjects: tuple[StrictStr, ...]
    rules: tuple[StrictStr, ...]
    policy: StrictStr
    decision_id: StrictStr | None = None
    prev: Digest
    hash: Digest

    def data(self) -> dict[str, Any]:
        """The record as JSON-ready data (what is hashed and written).

        `decision_id` is left out when there is none, so records written
        before it existed hash as they did.

        Returns:
            The record's fields.
        """
        return self.model_dump(mode="json", exclude_none=True)


def chain(disclosure: Disclosure, *, seq: int, prev: str) -> DisclosureRecord:
    """Link a disclosure into the chain after the record whose hash is `prev`.

    Args:
        disclosure: what was disclosed.
        seq: its sequence number (the previous record's plus one).
        prev: the previous record's hash (`GENESIS` for the first).

    Returns:
        The record, with its hash.
    """
    body: dict[str, Any] = {
        "seq": seq,
        "time": disclosure.time,
        "reader": disclosure.reader,
        "item": disclosure.item,
        "view": disclosure.view,
        "portions": list(disclosure.portions),
        "subjects": list(disclosure.subjects),
        "rules": list(disclosure.rules),
        "policy": disclosure.policy,
        "prev": prev,
    }
    if disclosure.decision_id is not None:
        body["decision_id"] = disclosure.decision_id
    return DisclosureRecord.model_validate({**body, "hash": record_hash(body)})


class Checkpoint(BaseModel):
    """A signed statement that record `seq` of the trail has hash `head`.

    Attributes:
        seq: the record's sequence number.
        head: its hash.
        time: when the checkpoint was signed.
        key_id: the id of the trail key that signed it.
        signature: base64 Ed25519 signature over `checkpoint_payload`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: StrictInt = Field(ge=1)
    head: Digest
    time: StrictStr
    key_id: StrictStr
    signature: StrictStr

    def data(self) -> dict[str, Any]:
        """The checkpoint as JSON-ready data.

        Returns:
            Its fields.
        """
        return self.model_dump(mode="json")

    def verifies(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature is the trail key's over this checkpoint.

        Args:
            public_key: the trail's public key.

        Returns:
            True when it verifies.
        """
        if key_id(public_key) != self.key_id:
            return False
        try:
            signature = base64.b64decode(self.signature, validate=True)
            public_key.verify(signature, checkpoint_payload(self.seq, self.head, self.time))
        except (InvalidSignature, ValueError):
            return False
        return True


def checkpoint_payload(seq: int, head: str, time: str) -> bytes:
    """The bytes a checkpoint signature covers.

    Args:
        seq: the record's sequence number.
        head: its hash.
        time: when the checkpoint was signed.

    Returns:
        Canonical JSON of the format, seq, head and time.
    """
    return canonical({"format": CHECKPOINT_FORMAT, "seq": seq, "head": head, "time": time})


class Checkpointer:
    """Signs the chain's head every `every` records with the trail's key."""

    def __init__(self, key: Ed25519PrivateKey, *, every: int = 100) -> None:
        """Create the checkpointer.

        Args:
            key: the trail's Ed25519 private key.
            every: sign after every record whose `seq` is a multiple of this.

        Raises:
            ValueError: `every` is below 1.
        """
        if every < 1:
            raise ValueError("`every` must be at least 1")
        self.key = key
        self.every = every
        self.key_id = key_id(key)

    def due(self, seq: int) -> bool:
        """Whether record `seq` gets a checkpoint.

        Args:
            seq: the record's sequence number.

        Returns:
            True every `every` records.
        """
        return seq % self.every == 0

    def sign(self, seq: int, head: str, *, at: dt.datetime) -> Checkpoint:
        """Sign the head `(seq, head)`.

        Args:
            seq: the last record's sequence number.
            head: its hash.
            at: the time of signing.

        Returns:
            The checkpoint.
        """
        time = utc_text(at)
        signature = self.key.sign(checkpoint_payload(seq, head, time))
        return Checkpoint(
            seq=seq,
            head=head,
            time=time,
            key_id=self.key_id,
            signature=base64.b64encode(signature).decode("ascii"),
        )
