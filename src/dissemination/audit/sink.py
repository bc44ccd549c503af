"""The interface every trail sink offers (the audit adapter, DESIGN §3).

A sink stores records and checkpoints and serialises appends: it reads the
chain's head, links the new record to it and writes it as one step that no
other thread or process can interleave. Sinks: `JsonlSink` (a JSON Lines file,
the default) and `DatabaseSink` (SQLAlchemy: SQLite or PostgreSQL).

For verification a sink hands back what it holds as written (`RawEntry`), not
as parsed models: a record someone edited must still reach the verifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from dissemination.audit.records import Checkpoint, Checkpointer, Disclosure, DisclosureRecord

__all__ = ["RawEntry", "TrailSink"]


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One stored record or checkpoint, as written.

    Attributes:
        position: where it is: the line number in a file, the row number
            (in sequence order) in a database, from 1.
        data: the parsed JSON object, or None when it could not be parsed.
        torn: the entry is the last one and was cut short (a crash while
            writing it).
    """

    position: int
    data: dict[str, Any] | None
    torn: bool = False


class TrailSink(Protocol):
    """Where a disclosure trail is kept."""

    target: str
    """The file or database, for messages (never with a password)."""

    unit: str
    """What a position counts: `line` or `row`."""

    def append(
        self, disclosure: Disclosure, *, checkpointer: Checkpointer | None = None
    ) -> DisclosureRecord:
        """Chain and store one disclosure, and a checkpoint when one is due.

        Args:
            disclosure: what was disclosed.
            checkpointer: signs the head when due; None for no checkpoints.

        Returns:
            The record written.

        Raises:
            TrailError: the trail cannot be written, or its last record is torn.
        """
        ...

    def checkpoint(self, checkpointer: Checkpointer) -> Checkpoint | None:
        """Sign and store the current head now.

        Args:
            checkpointer: signs the head.

        Returns:
            The checkpoint, or None when the trail is empty.

        Raises:
            TrailError: the trail cannot be read or written.
        """
        ...

    def records(self) -> Iterator[RawEntry]:
        """Every record as written, in order.

        Raises:
            TrailError: the trail cannot be read.
        """
        ...

    def checkpoints(self) -> Iterator[RawEntry]:
        """Every checkpoint as written, in order.

        Raises:
            TrailError: the checkpoints cannot be read.
        """
        ...

    def close(self) -> None:
        """Release what the sink holds open (a database's connections)."""
        ...
