"""The JSON Lines trail sink: one canonical JSON record per line (the default).

`trail.jsonl` holds the records; `trail.jsonl.checkpoints` the signed
checkpoints (copy it off the host as well: a checkpoint kept where the trail
is can be truncated with it).

**Concurrency.** An append takes an exclusive `fcntl.flock` on the trail file
(each append opens the file anew, so the lock excludes threads as well as
processes), reads the last record to find the head, and writes the new line
with one `O_APPEND` write. Several threads and processes may append at once:
none is lost and no two interleave.

**Crashes.** A line is complete when it ends in a newline. If a write fails
part way the file is cut back to where it was; if the process dies part way
the last line is left without its newline. `records()` reports such a line
as torn; appends refuse to build on it (the head is unknown) until
`repair_torn_tail` moves the fragment aside. Every earlier record is intact
and verifies. Each append is `fsync`ed unless the sink is told otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dissemination.audit.records import (
    GENESIS,
    Checkpoint,
    Checkpointer,
    Disclosure,
    DisclosureRecord,
    canonical,
    chain,
)
from dissemination.audit.sink import RawEntry
from dissemination.errors import InputError, TrailError
from dissemination.loading import parse_document

__all__ = ["CHECKPOINT_SUFFIX", "JsonlSink", "parse_line", "repair_torn_tail"]

CHECKPOINT_SUFFIX = ".checkpoints"
"""The checkpoints of `trail.jsonl` are kept in `trail.jsonl.checkpoints`."""

_TAIL_CHUNK = 65536
_TRAIL_MODE = 0o600

# Each append opens the file anew, so its flock (held by the open file
# description) excludes other threads as it excludes other processes. A lock
# per path as well queues a process's own threads without a kernel round trip.
_PATH_LOCKS: dict[str, threading.Lock] = {}
_PATH_LOCKS_GUARD = threading.Lock()


def _path_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _PATH_LOCKS_GUARD:
        return _PATH_LOCKS.setdefault(key, threading.Lock())


def parse_line(line: bytes) -> dict[str, Any] | None:
    """Parse one line as a JSON object; None when it is not one.

    Duplicate keys make a line invalid: two values for `reader` would let the
    hash cover one and a reader of the file see the other.

    Args:
        line: the line's bytes, without its newline.

    Returns:
        The object, or None.
    """
    try:
        data = parse_document(line.decode("utf-8"), source="<trail line>", yaml_ok=False)
    except (UnicodeDecodeError, InputError):
        return None
    return data if isinstance(data, dict) else None


def _os_problem(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else type(exc).__name__


@contextlib.contextmanager
def _locked(path: Path, *, create: bool) -> Iterator[int]:
    """Open `path` for reading and appending, holding the thread and file locks."""
    with _path_lock(path):
        flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
        try:
            descriptor = os.open(path, flags, _TRAIL_MODE)
        except OSError as exc:
            raise TrailError(f"cannot open ({_os_problem(exc)})", target=str(path)) from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield descriptor
        finally:
            os.close(descriptor)  # closing the last descriptor releases the flock


def _last_line(descriptor: int, *, target: str) -> bytes | None:
    """The last complete line of the file, or None when it is empty.

    Raises:
        TrailError: the file does not end in a newline (a torn last line).
    """
    size = os.fstat(descriptor).st_size
    if size == 0:
        return None
    if os.pread(descriptor, 1, size - 1) != b"\n":
        raise TrailError(
            "the last line is half-written (a crash?); run `dissemination audit verify`, "
            "then `dissemination audit repair`",
            target=target,
        )
    end = size - 1
    start = end
    while start > 0:
        chunk_start = max(0, start - _TAIL_CHUNK)
        chunk = os.pread(descriptor, start - chunk_start, chunk_start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            start = chunk_start + newline + 1
            break
        start = chunk_start
    return os.pread(descriptor, end - start, start)


def _write_line(descriptor: int, line: bytes, *, target: str, fsync: bool) -> None:
    """Append one line; on failure cut the file back to where it was."""
    size = os.fstat(descriptor).st_size
    try:
        view = memoryview(line)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        if fsync:
            os.fsync(descriptor)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, size)
        raise TrailError(f"cannot write ({_os_problem(exc)})", target=target) from exc


def _read_entries(path: Path) -> Iterator[RawEntry]:
    try:
        # Non-blocking open, then a regular file only: a FIFO is refused, not waited on.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise TrailError(f"cannot read ({_os_problem(exc)})", target=str(path)) from exc
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise TrailError("cannot read (not a regular file)", target=str(path))
    handle = os.fdopen(descriptor, "rb")
    with handle:
        # A snapshot: only what was complete when reading began. Appends hold
        # the exclusive lock while they write, so under the shared lock the
        # size covers whole lines only; a line appended since is not read
        # (and a checkpoint read before this can only name records within it).
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        size = os.fstat(handle.fileno()).st_size
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        consumed, number = 0, 0
        while consumed < size:
            raw = handle.readline(size - consumed)
            if not raw:
                return
            consumed += len(raw)
            number += 1
            if not raw.endswith(b"\n"):
                yield RawEntry(position=number, data=None, torn=True)
                return
            yield RawEntry(position=number, data=parse_line(raw[:-1]))


class JsonlSink:
    """A trail in a JSON Lines file, with its checkpoints beside it."""

    unit = "line"

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        """Create the sink; the file is created by the first append.

        Args:
            path: the trail file (`trail.jsonl`).
            fsync: flush every append to the disk before returning.
        """
        self.path = Path(path)
        self.checkpoint_path = Path(f"{self.path}{CHECKPOINT_SUFFIX}")
        self.target = str(self.path)
        self.fsync = fsync

    def _head(self, descriptor: int) -> tuple[int, str]:
        line = _last_line(descriptor, target=self.target)
        if line is None:
            return 0, GENESIS
        data = parse_line(line)
        seq = data.get("seq") if data is not None else None
        head = data.get("hash") if data is not None else None
        if not isinstance(seq, int) or not isinstance(head, str):
            raise TrailError(
                "the last line is not a record; run `dissemination audit verify`",
                target=self.target,
            )
        return seq, head

    def _write_checkpoint(self, checkpoint: Checkpoint) -> bool:
        target = str(self.checkpoint_path)
        with _locked(self.checkpoint_path, create=True) as descriptor:
            last = _last_line(descriptor, target=target)  # refuses to follow a torn line
            previous = parse_line(last) if last is not None else None
            if previous is not None and previous.get("seq") == checkpoint.seq:
                return False  # this head is signed already
            line = canonical(checkpoint.data()) + b"\n"
            _write_line(descriptor, line, target=target, fsync=self.fsync)
        return True

    def append(
        self, disclosure: Disclosure, *, checkpointer: Checkpointer | None = None
    ) -> DisclosureRecord:
        """Chain and append one disclosure (see `TrailSink.append`).

        Args:
            disclosure: what was disclosed.
            checkpointer: signs the head when due; None for no checkpoints.

        Returns:
            The record written.

        Raises:
            TrailError: the file cannot be written, or its last line is torn
                or not a record.
        """
        with _locked(self.path, create=True) as descriptor:
            seq, head = self._head(descriptor)
            record = chain(disclosure, seq=seq + 1, prev=head)
            line = canonical(record.data()) + b"\n"
            _write_line(descriptor, line, target=self.target, fsync=self.fsync)
            if checkpointer is not None and checkpointer.due(record.seq):
                # Still under the trail's lock: checkpoints stay in chain order.
                self._write_checkpoint(
                    checkpointer.sign(record.seq, record.hash, at=dt.datetime.now(dt.UTC))
                )
        return record

    def checkpoint(self, checkpointer: Checkpointer) -> Checkpoint | None:
        """Sign and store the current head now (see `TrailSink.checkpoint`).

        Args:
            checkpointer: signs the head.

        Returns:
            The checkpoint, or None when the trail is empty or its head is
            signed already.

        Raises:
            TrailError: the files cannot be read or written.
        """
        with _locked(self.path, create=True) as descriptor:
            seq, head = self._head(descriptor)
            if seq == 0:
                return None
            checkpoint = checkpointer.sign(seq, head, at=dt.datetime.now(dt.UTC))
            if not self._write_checkpoint(checkpoint):
                return None
        return checkpoint

    def records(self) -> Iterator[RawEntry]:
        """Every line of the trail, parsed where it can be (see `TrailSink.records`).

        Yields:
            One entry per line; a missing file is an empty trail.

        Raises:
            TrailError: the file cannot be read.
        """
        yield from _read_entries(self.path)

    def checkpoints(self) -> Iterator[RawEntry]:
        """Every line of the checkpoints file (see `TrailSink.checkpoints`).

        Yields:
            One entry per line; a missing file means no checkpoints.

        Raises:
            TrailError: the file cannot be read.
        """
        yield from _read_entries(self.checkpoint_path)

    def close(self) -> None:
        """Nothing to release: every append opens and closes the file."""


def repair_torn_tail(path: str | Path) -> int:
    """Move a torn last line (a crash while writing it) aside, so appends resume.

    The fragment is appended to `<path>.torn` for the record; the file is cut
    back to its last complete line. A file that ends in a newline is left
    alone. Only the last line is ever touched: a broken record earlier in the
    trail is evidence, and `audit verify` reports it.

    Args:
        path: a trail or checkpoints file.

    Returns:
        How many bytes were moved aside (0 when the file was whole).

    Raises:
        TrailError: the file cannot be read or written.
    """
    path = Path(path)
    if not path.exists():
        return 0
    with _locked(path, create=False) as descriptor:
        size = os.fstat(descriptor).st_size
        if size == 0 or os.pread(descriptor, 1, size - 1) == b"\n":
            return 0
        data = os.pread(descriptor, size, 0)
        keep = data.rfind(b"\n") + 1
        fragment = data[keep:]
        torn_path = Path(f"{path}.torn")
        try:
            with torn_path.open("ab") as torn:
                torn.write(fragment + b"\n")
                torn.flush()
                os.fsync(torn.fileno())
            os.ftruncate(descriptor, keep)
            os.fsync(descriptor)
        except OSError as exc:
            raise TrailError(f"cannot repair ({_os_problem(exc)})", target=str(path)) from exc
    return len(fragment)
