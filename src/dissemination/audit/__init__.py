"""The disclosure trail: a hash-chained, tamper-evident record of who was shown what.

- `records`: the record, its hash chain, and signed checkpoints of its head;
- `sink`: the interface of a trail's storage;
- `jsonl`: a JSON Lines file (the default), locked for concurrent appends;
- `database`: SQLAlchemy tables (SQLite, PostgreSQL);
- `verify`: the first broken record, and what broke it;
- `trail`: `DisclosureTrail`, recording decisions and answering who saw an item.
"""

from dissemination.audit.database import DatabaseSink
from dissemination.audit.jsonl import JsonlSink, repair_torn_tail
from dissemination.audit.records import Checkpoint, Checkpointer, Disclosure, DisclosureRecord
from dissemination.audit.sink import RawEntry, TrailSink
from dissemination.audit.trail import DisclosureTrail, is_database_url, open_sink, open_trail
from dissemination.audit.verify import TrailProblem, TrailReport, verify_trail

__all__ = [
    "Checkpoint",
    "Checkpointer",
    "DatabaseSink",
    "Disclosure",
    "DisclosureRecord",
    "DisclosureTrail",
    "JsonlSink",
    "RawEntry",
    "TrailProblem",
    "TrailReport",
    "TrailSink",
    "is_database_url",
    "open_sink",
    "open_trail",
    "repair_torn_tail",
    "verify_trail",
]
