"""Verifying a disclosure trail: the first broken record, and what broke it.

One pass over the records in order checks, for each: that it parses (a torn
last line is a crash, anything else unparseable an edit), that its hash
matches its contents (else edited), that its `seq` is the next one (else a
record was deleted, moved or inserted: a second look decides which), that
its `prev` is the previous record's hash (else the chain was cut and
re-linked there), and, where a checkpoint signed that record, that its hash
is the signed head (else the trail was rewritten at or before it). At the end,
a checkpoint beyond the last record means the trail was truncated.

Checkpoints are checked first: each must parse, be signed by the trail key
(when the caller gives it) and follow the one before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from dissemination.audit.records import GENESIS, Checkpoint, DisclosureRecord, record_hash
from dissemination.audit.sink import RawEntry, TrailSink

__all__ = ["PROBLEM_KINDS", "TrailProblem", "TrailReport", "verify_trail"]

PROBLEM_KINDS = (
    "half_written",
    "edited",
    "deleted",
    "reordered",
    "inserted",
    "relinked",
    "rewritten",
    "truncated",
    "checkpoint",
)
"""What can be wrong with a trail, in the words `TrailProblem.kind` uses."""


@dataclass(frozen=True, slots=True)
class TrailProblem:
    """The first thing wrong with a trail.

    Attributes:
        kind: one of `PROBLEM_KINDS`.
        position: the line (file) or row (database) at fault, from 1; for a
            `checkpoint` problem, the checkpoint's position.
        message: one line naming the record and what is wrong.
    """

    kind: str
    position: int
    message: str


@dataclass(frozen=True, slots=True)
class TrailReport:
    """The outcome of verifying a trail.

    Attributes:
        records: how many records verified (before the problem, if any).
        checkpoints: how many checkpoints there are.
        signatures_checked: whether checkpoint signatures were verified (a
            trail key was given).
        problem: the first problem, or None when the trail verifies.
    """

    records: int
    checkpoints: int
    signatures_checked: bool
    problem: TrailProblem | None = None

    @property
    def ok(self) -> bool:
        """True when the trail verifies."""
        return self.problem is None


def _checkpoints(
    entries: Iterable[RawEntry], public_key: Ed25519PublicKey | None, unit: str
) -> tuple[dict[int, Checkpoint], TrailProblem | None]:
    found: dict[int, Checkpoint] = {}
    last = 0
    for entry in entries:
        where = f"checkpoint at {unit} {entry.position}"
        if entry.data is None:
            kind = "half_written" if entry.torn else "checkpoint"
            what = "is half-written (a crash?)" if entry.torn else "is not a checkpoint"
            return found, TrailProblem(kind, entry.position, f"{where} {what}")
        try:
            checkpoint = Checkpoint.model_validate(entry.data)
        except ValidationError:
            return found, TrailProblem("checkpoint", entry.position, f"{where} is not a checkpoint")
        if public_key is not None and not checkpoint.verifies(public_key):
            return found, TrailProblem(
                "checkpoint",
                entry.position,
                f"{where} is not signed by the trail key (forged or edited)",
            )
        if checkpoint.seq <= last:
            return found, TrailProblem(
                "checkpoint", entry.position, f"{where} does not follow the one before it"
            )
        last = checkpoint.seq
        found[checkpoint.seq] = checkpoint
    return found, None


def _find_seq(sink: TrailSink, seq: int, after: int) -> bool:
    for entry in sink.records():
        if entry.position > after and entry.data is not None and entry.data.get("seq") == seq:
            return True
    return False


def _out_of_sequence(sink: TrailSink, entry: RawEntry, seq: int, expected: int) -> TrailProblem:
    where = f"{sink.unit} {entry.position}"
    if seq > expected:
        if _find_seq(sink, expected, entry.position):
            return TrailProblem(
                "reordered",
                entry.position,
                f"record {expected} was moved: {where} holds record {seq} (reordered)",
            )
        return TrailProblem(
            "deleted",
            entry.position,
            f"record {expected} is missing (deleted): {where} holds record {seq}",
        )
    return TrailProblem(
        "inserted",
        entry.position,
        f"{where} repeats record {seq} where record {expected} belongs "
        "(a record was inserted or duplicated)",
    )


def verify_trail(  # noqa: PLR0911 (one return per kind of problem reads best)
    sink: TrailSink, *, public_key: Ed25519PublicKey | None = None
) -> TrailReport:
    """Verify a trail and name the first broken record.

    Args:
        sink: the trail's sink.
        public_key: the trail key's public half, to verify checkpoint
            signatures; without it checkpoints still bound the chain but a
            forged checkpoint would go unnoticed.

    Returns:
        The report; `report.problem` is None when the trail verifies.

    Raises:
        TrailError: the trail cannot be read.
    """
    checkpoints, problem = _checkpoints(sink.checkpoints(), public_key, sink.unit)
    signed = public_key is not None

    def report(count: int, found: TrailProblem | None) -> TrailReport:
        return TrailReport(count, len(checkpoints), signed, found)

    if problem is not None:
        return report(0, problem)
    expected, prev, count = 1, GENESIS, 0
    for entry in sink.records():
        where = f"{sink.unit} {entry.position}"
        if entry.data is None:
            if entry.torn:
                message = (
                    f"{where} is half-written (a crash?); the {count} records before it verify"
                )
                return report(count, TrailProblem("half_written", entry.position, message))
            return report(
                count, TrailProblem("edited", entry.position, f"{where} is not a record (edited)")
            )
        try:
            intact = entry.data.get("hash") == record_hash(entry.data)
        except ValueError:
            # JSON that canonical JSON cannot hold (NaN, 1e400, an integer
            # beyond 2**53): no writer made it, so someone edited it.
            intact = False
        if not intact:
            message = f"{where} was edited: its hash does not match its contents"
            return report(count, TrailProblem("edited", entry.position, message))
        try:
            record = DisclosureRecord.model_validate(entry.data)
        except ValidationError:
            message = f"{where} was edited: it is not a well-formed record"
            return report(count, TrailProblem("edited", entry.position, message))
        if record.seq != expected:
            return report(count, _out_of_sequence(sink, entry, record.seq, expected))
        if record.prev != prev:
            before = f"record {record.seq - 1}" if record.seq > 1 else "the chain's start"
            message = (
                f"{where} does not follow the record before it: "
                f"{before} was edited and rehashed, or this one replaced"
            )
            return report(count, TrailProblem("relinked", entry.position, message))
        checkpoint = checkpoints.get(record.seq)
        if checkpoint is not None and checkpoint.head != record.hash:
            message = (
                f"{where} (record {record.seq}) is not the record its checkpoint signed: "
                "the trail was rewritten at or before it"
            )
            return report(count, TrailProblem("rewritten", entry.position, message))
        prev, expected, count = record.hash, expected + 1, count + 1
    beyond = [seq for seq in checkpoints if seq >= expected]
    if beyond:
        message = (
            f"the trail ends at record {expected - 1} but a checkpoint signed record "
            f"{max(beyond)}: records from {expected} on were removed (truncated)"
        )
        return report(count, TrailProblem("truncated", expected, message))
    return report(count, None)
