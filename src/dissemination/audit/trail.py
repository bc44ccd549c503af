"""The disclosure trail: record what each decision disclosed, verify, and ask.

    >>> trail = open_trail("trail.jsonl", checkpoint_key=key)  # doctest: +SKIP
    >>> decision = decide(reader, item, now=now)  # doctest: +SKIP
    >>> trail.record(item, decision)  # before the reader is shown anything  # doctest: +SKIP

Record a decision before showing its view: if the trail cannot be written,
`record` raises and nothing should be shown. A decision at `none` disclosed
nothing and is not written. Nothing withheld is ever written: a record holds
the ids of what was shown, never content, facts or withheld parts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import ValidationError

from dissemination.audit.database import DatabaseSink
from dissemination.audit.jsonl import JsonlSink
from dissemination.audit.records import Checkpoint, Checkpointer, Disclosure, DisclosureRecord
from dissemination.audit.sink import TrailSink
from dissemination.audit.verify import TrailReport, verify_trail
from dissemination.decision import Decision
from dissemination.models import Item
from dissemination.vocabulary import View

__all__ = ["DisclosureTrail", "is_database_url", "open_sink", "open_trail"]


def is_database_url(target: str | Path) -> bool:
    """Whether a trail target names a database (`scheme://...`) rather than a file.

    Args:
        target: a path or a SQLAlchemy URL.

    Returns:
        True for a URL.
    """
    return isinstance(target, str) and "://" in target


def open_sink(target: str | Path, *, fsync: bool = True) -> TrailSink:
    """The sink a target names: a database URL, or else a JSON Lines file.

    Args:
        target: `trail.jsonl`, or `sqlite:///trail.db`, `postgresql+psycopg://...`.
        fsync: for a file, flush each append to the disk.

    Returns:
        The sink.

    Raises:
        TrailError: a database that cannot be reached or set up.
    """
    if is_database_url(target):
        return DatabaseSink(str(target))
    return JsonlSink(target, fsync=fsync)


class DisclosureTrail:
    """Records disclosures into a sink, with signed checkpoints when given a key."""

    def __init__(
        self,
        sink: TrailSink,
        *,
        checkpoint_key: Ed25519PrivateKey | None = None,
        checkpoint_every: int = 100,
    ) -> None:
        """Create the trail.

        Args:
            sink: where records go.
            checkpoint_key: the trail's Ed25519 key; None for no checkpoints
                (the chain then shows edits but not a rewrite or truncation).
            checkpoint_every: sign the head after every this many records.

        Raises:
            ValueError: `checkpoint_every` is below 1.
        """
        self.sink = sink
        self.checkpointer = (
            Checkpointer(checkpoint_key, every=checkpoint_every)
            if checkpoint_key is not None
            else None
        )

    def record(
        self,
        item: Item,
        decision: Decision,
        *,
        at: dt.datetime | None = None,
        decision_id: str | None = None,
    ) -> DisclosureRecord | None:
        """Record what `decision` disclosed of `item`; do this before showing it.

        Args:
            item: the item decided on.
            decision: the decision.
            at: when it was disclosed (default: the clock, UTC).
            decision_id: the id the decision is answered under (the service's
                `decision_id`), written in the record.

        Returns:
            The record, or None for a decision at `none` (nothing disclosed).

        Raises:
            TrailError: the trail cannot be written; show nothing.
            ValueError: the decision is for another item.
        """
        if decision.view is View.NONE:
            if decision.item_id != item.id:
                raise ValueError("the decision is for another item")
            return None
        disclosure = Disclosure.of(
            item, decision, at=at or dt.datetime.now(dt.UTC), decision_id=decision_id
        )
        return self.sink.append(disclosure, checkpointer=self.checkpointer)

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (at shutdown, say).

        Returns:
            The checkpoint, or None without a key or records.

        Raises:
            TrailError: the trail cannot be read or written.
        """
        if self.checkpointer is None:
            return None
        return self.sink.checkpoint(self.checkpointer)

    def verify(self, *, public_key: Ed25519PublicKey | None = None) -> TrailReport:
        """Verify the trail (see `verify_trail`).

        Args:
            public_key: the trail key's public half (default: the checkpoint
                key's, when this trail has one).

        Returns:
            The report.

        Raises:
            TrailError: the trail cannot be read.
        """
        if public_key is None and self.checkpointer is not None:
            public_key = self.checkpointer.key.public_key()
        return verify_trail(self.sink, public_key=public_key)

    def close(self) -> None:
        """Release the sink's resources (a database's connections)."""
        self.sink.close()

    def __enter__(self) -> DisclosureTrail:
        """Use the trail in a `with` block that closes it."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the trail."""
        self.close()

    def disclosures(self, item_id: str) -> Iterator[DisclosureRecord]:
        """Who was shown what of an item, oldest first.

        Verify the trail first: this reads the records as they are.

        Args:
            item_id: the item.

        Yields:
            Each well-formed record of the item.

        Raises:
            TrailError: the trail cannot be read.
        """
        for entry in self.sink.records():
            if entry.data is None or entry.data.get("item") != item_id:
                continue
            try:
                yield DisclosureRecord.model_validate(entry.data)
            except ValidationError:
                continue


def open_trail(
    target: str | Path,
    *,
    checkpoint_key: Ed25519PrivateKey | None = None,
    checkpoint_every: int = 100,
    fsync: bool = True,
) -> DisclosureTrail:
    """Open the trail a target names (a file path or a database URL).

    Args:
        target: `trail.jsonl`, or a SQLAlchemy URL.
        checkpoint_key: the trail's Ed25519 key, for signed checkpoints.
        checkpoint_every: sign the head after every this many records.
        fsync: for a file, flush each append to the disk.

    Returns:
        The trail.

    Raises:
        TrailError: a database that cannot be reached or set up.
        ValueError: `checkpoint_every` is below 1.
    """
    return DisclosureTrail(
        open_sink(target, fsync=fsync),
        checkpoint_key=checkpoint_key,
        checkpoint_every=checkpoint_every,
    )
