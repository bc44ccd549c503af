"""Two processes race every pair of life-cycle operations on one subject (issue 12, found 1-2).

Real OS processes (spawned, each with its own engine), released together at a
barrier before every round, on SQLite and on PostgreSQL. After the races each
subject's history is replayed (`lifecycle.replay`): no event may contradict
the story before it, the replay must give exactly the claim the table holds,
and every operation confirmed to its caller must stand in the history, once.
A plain read-then-write under READ COMMITTED fails this on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

from dissemination.errors import DisseminationError
from dissemination.identifiers import NormalisedIdentifier, normalise_value
from dissemination.models import Owner
from dissemination.registry import Registry
from dissemination.registry.lifecycle import replay
from tests.registry.support import AUDITOR, KEYS, NOW, item, reader

PAIRS = [
    ("transfer", "release"),
    ("renew", "transfer"),
    ("release", "release"),
    ("register", "release"),
    ("transfer", "transfer"),
]
ROUNDS = 12  # per pair: 5 pairs x 12 rounds x 2 processes = 120 racing operations


def _subject(pair: int, round_: int) -> dict[str, str]:
    return {"type": "vehicle", "value": f"RC{pair}X{round_:03d}"}


def _identifier(pair: int, round_: int) -> NormalisedIdentifier:
    return normalise_value("vehicle", f"RC{pair}X{round_:03d}")


def _operate(registry: Registry, operation: str, worker: int, pair: int, round_: int) -> str:
    subject = _identifier(pair, round_)
    # A registry administrator: every change is authorised, so only the race decides.
    actor = reader(f"worker-{worker}", organisation="registry-ops", roles=("registry-admin",))
    if operation == "transfer":
        to = Owner(organisation=f"org-{worker + 1}", unit="u", contact="c@example.gov.uk")
        registry.transfer(subject, to, now=NOW, by=actor, reason="race")
    elif operation == "renew":
        registry.renew(subject, now=NOW, by=actor)
    elif operation == "release":
        registry.release(subject, now=NOW, by=actor, reason="race")
    else:
        racer = item(f"IT-{pair}-{round_}-{worker}", [_subject(pair, round_)], owner="org-9")
        (registration,) = registry.register(racer, now=NOW, actor=actor.id)
        return registration.outcome
    return "done"


def _race(
    url: str, prefix: str, worker: int, barrier: Any, results: Any
) -> None:  # runs in a child process
    outcomes: list[tuple[int, int, str, str]] = []
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        for pair, operations in enumerate(PAIRS):
            operation = operations[worker]
            for round_ in range(ROUNDS):
                barrier.wait(timeout=60)
                try:
                    outcome = _operate(registry, operation, worker, pair, round_)
                except DisseminationError as error:
                    outcome = f"error: {error}"
                outcomes.append((pair, round_, operation, outcome))
    results.put((worker, outcomes))


def _contradictions(
    registry: Registry, subject: NormalisedIdentifier, outcomes: list[tuple[str, str, str]]
) -> list[str]:
    """What is wrong with one subject after one race (nothing, when no update was lost)."""
    history = registry.history(subject, by=AUDITOR, now=NOW)
    replayed = replay(history.events)
    problems = list(replayed.contradictions)
    if replayed.claim != history.claim:
        problems.append(f"replay gives {replayed.claim}, the table {history.claim}")
    # Every confirmed change stands in the history, by its actor, once.
    confirmed = Counter(
        (actor, operation)
        for actor, operation, outcome in outcomes
        if not outcome.startswith("error") and operation != "register"
    )
    recorded = Counter(
        (event.actor, event.action)
        for event in history.events
        if event.actor.startswith("worker-") and event.action not in {"link", "claim"}
    )
    if confirmed != recorded:
        problems.append(f"confirmed {dict(confirmed)}, recorded {dict(recorded)}")
    # A lost race answers as the state is: no live owner, nothing else.
    problems += [
        outcome
        for _actor, _operation, outcome in outcomes
        if outcome.startswith("error") and "no live owner" not in outcome
    ]
    return problems


def test_racing_life_cycle_operations_lose_no_update(database: tuple[str, str]) -> None:
    url, prefix = database
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        for pair in range(len(PAIRS)):
            for round_ in range(ROUNDS):
                seed = item(f"SEED-{pair}-{round_}", [_subject(pair, round_)], owner="org-0")
                registry.register(seed, now=NOW)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=_race, args=(url, prefix, index, barrier, results))
        for index in range(2)
    ]
    for process in workers:
        process.start()
    collected = dict(results.get(timeout=240) for _ in workers)
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0

    problems: list[str] = []
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        for pair, operations in enumerate(PAIRS):
            for round_ in range(ROUNDS):
                outcomes = [
                    (f"worker-{worker}", operation, outcome)
                    for worker, done in collected.items()
                    for (p, r, operation, outcome) in done
                    if (p, r) == (pair, round_)
                ]
                where = f"{'||'.join(operations)} round {round_}"
                problems += [
                    f"{where}: {line}"
                    for line in _contradictions(registry, _identifier(pair, round_), outcomes)
                ]
    assert problems == []
    # Each pair really raced: both orders, or a refusal, were seen somewhere.
    errors = Counter(
        PAIRS[pair]
        for outcomes in collected.values()
        for pair, _r, _o, outcome in outcomes
        if outcome.startswith("error")
    )
    assert errors[("release", "release")] == ROUNDS  # exactly one of two releases wins
