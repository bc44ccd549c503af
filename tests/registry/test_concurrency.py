"""N processes register the same subjects at once: exactly one owner, every link kept.

Real OS processes (spawned, each with its own engine and connections), started
together at a barrier, on SQLite and on PostgreSQL. Exactly one owner is the
primary key of `claims` plus one transaction per registration, not a lock in
Python: the test would fail if a check-then-insert raced.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from dissemination.identifiers import normalise_value
from dissemination.registry import Registry
from tests.registry.support import AUDITOR, KEYS, NOW, container, item

PROCESSES = 8
ROUNDS = 3
SUBJECTS = [
    container(),
    {"type": "vehicle", "value": "AB12 CDE"},
    {"type": "phone", "value": "07700 900123"},
]


def _register(
    url: str, prefix: str, worker: int, barrier: Any, results: Any
) -> None:  # runs in a child process
    outcomes: list[tuple[str, str, str, str]] = []
    barrier.wait(timeout=60)
    # Upgrading races too: the first process to arrive creates the tables.
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        for round_ in range(ROUNDS):
            item_id = f"IT-{worker}-{round_}"
            # Each process lists the subjects in another order, so lock orders differ.
            subjects = SUBJECTS[worker % 3 :] + SUBJECTS[: worker % 3]
            owned = item(item_id, subjects, owner=f"org-{worker}", unit=f"unit-{worker}")
            for registration in registry.register(owned, now=NOW):
                claim = registration.claim
                outcomes.append((item_id, registration.type, registration.outcome, claim.item_id))
    results.put((worker, outcomes))


@pytest.mark.parametrize("processes", [PROCESSES])
def test_concurrent_registrations_make_exactly_one_owner(
    database: tuple[str, str], processes: int
) -> None:
    url, prefix = database
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_register, args=(url, prefix, index, barrier, results))
        for index in range(processes)
    ]
    for process in workers:
        process.start()
    collected = dict(results.get(timeout=120) for _ in workers)
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(collected) == processes

    every_item = {f"IT-{w}-{r}" for w in range(processes) for r in range(ROUNDS)}
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        for subject in SUBJECTS:
            kind = subject["type"]
            identifier = normalise_value(kind, subject["value"])
            history = registry.history(identifier, by=AUDITOR, now=NOW)
            # Exactly one owner, and it is the item that won the race...
            winners = [
                outcome
                for outcomes in collected.values()
                for outcome in outcomes
                if outcome[1] == kind and outcome[2] == "new"
            ]
            assert len(winners) == 1, winners
            assert history.claim is not None
            assert history.claim.item_id == winners[0][0]
            assert [e.action for e in history.events].count("claim") == 1
            # ...every other registration saw that same owner...
            seen = {
                outcome[3]
                for outcomes in collected.values()
                for outcome in outcomes
                if outcome[1] == kind
            }
            assert seen == {winners[0][0]}
            # ...and every link is kept, once.
            assert set(history.items) == every_item
            assert len(history.items) == len(every_item)
            assert [e.action for e in history.events].count("link") == len(every_item)
