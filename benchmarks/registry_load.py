"""Registry load: N mixed workers for a while, then the invariant (issue 12 found 1, 4, 5).

    .venv/bin/python benchmarks/registry_load.py [--workers 4,16,64] [--duration 60]
        [--subjects 20] [--db sqlite|postgresql|both] [--mix mixed|writers]
        [--synchronous FULL|NORMAL] [--kill-every SECONDS] [--no-queue]

Each worker is an OS process with its own `Registry`, looping for `--duration`
seconds over a small pool of subjects (so operations collide): register an
item naming a subject, look a subject up, transfer, renew, release, read the
history (`--mix writers`: registrations only, one new item each). Every
operation is timed. With `--kill-every`, a process terminates every registry
backend on PostgreSQL that often (a restart or failover, as an organisation
meets it). Afterwards each subject's history is replayed
(`lifecycle.replay`): contradictions between the history and the claims
table are counted, as are errors by kind. `--no-queue` turns off the SQLite
writers' queue (`database._WriterQueue`) to show what it buys. Prints one table row per N; a
measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from dissemination import parse_item, parse_principal
from dissemination.errors import DisseminationError
from dissemination.identifiers import normalise_value
from dissemination.models import Owner
from dissemination.registry import Registry, parse_keys
from dissemination.registry import database as registry_database
from dissemination.registry.database import make_tables
from dissemination.registry.lifecycle import replay

KEYS = parse_keys("load:" + "q" * 43, source="<load>")
ORGANISATIONS = ["border-force", "nca", "hmrc"]
ADMIN = parse_principal(
    {
        "id": "load-admin",
        "organisation": "registry-ops",
        "employment": "crown-servant",
        "nationality": "GBR",
        "roles": ["registry-admin", "registry-auditor"],
        "vetting": {"level": "SC"},
    }
)
WRITES = {"register", "transfer", "renew", "release"}


def _value(index: int) -> str:
    return f"LD{index:04d}"


def _item(item_id: str, subject: int, organisation: str) -> Any:
    return parse_item(
        {
            "id": item_id,
            "title": "load",
            "created": "2026-11-20T09:14:00Z",
            "classification": "OFFICIAL",
            "originator": {"organisation": organisation, "unit": "u"},
            "owner": {"organisation": organisation, "unit": "u", "contact": "u@example.gov.uk"},
            "subjects": [{"type": "vehicle", "value": _value(subject)}],
            "portions": [{"id": "p1", "category": "tearline", "text": "t"}],
        }
    )


def _operate(registry: Registry, kind: str, rng: random.Random, worker: int, n: int) -> None:
    subject = rng.randrange(n)
    identifier = normalise_value("vehicle", _value(subject))
    now = dt.datetime.now(dt.UTC)
    organisation = rng.choice(ORGANISATIONS)
    if kind == "register":
        item_id = f"W{worker}-{uuid.uuid4().hex[:10]}"
        registry.register(_item(item_id, subject, organisation), now=now)
    elif kind == "lookup":
        registry.lookup(identifier, ADMIN, now=now)
    elif kind == "transfer":
        to = Owner(organisation=organisation, unit="u", contact="u@example.gov.uk")
        registry.transfer(identifier, to, now=now, by=ADMIN, reason="load")
    elif kind == "renew":
        registry.renew(identifier, now=now, by=ADMIN)
    elif kind == "release":
        registry.release(identifier, now=now, by=ADMIN, reason="load")
    else:
        registry.history(identifier, by=ADMIN, now=now)


class _NoQueue:
    @contextlib.contextmanager
    def turn(self, _path: str) -> Iterator[None]:
        yield


def _kind_of(error: DisseminationError) -> str:
    text_ = str(error)
    for words in (
        "no live owner",
        "unavailable",
        "may or may not",
        "earlier than the subject's last",
        "database is locked",
        "concurrent changes",
    ):
        if words in text_:
            return words
    return f"{type(error).__name__}: {text_.split(': ', 1)[-1][:60]}"


def _worker(
    url: str, prefix: str, worker: int, args: dict[str, Any], channels: tuple[Any, Any]
) -> None:
    barrier, results = channels
    registry_database._SQLITE_SYNCHRONOUS = args["synchronous"]
    if args.get("no_queue"):
        registry_database._WRITERS = _NoQueue()  # type: ignore[assignment]
    rng = random.Random(worker)
    kinds = (
        ["register"]
        if args["mix"] == "writers"
        else ["register", "lookup", "lookup", "lookup", "transfer", "renew", "release", "history"]
    )
    times: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        barrier.wait(timeout=120)
        deadline = time.monotonic() + args["duration"]
        while time.monotonic() < deadline:
            kind = rng.choice(kinds)
            start = time.perf_counter()
            try:
                _operate(registry, kind, rng, worker, args["subjects"])
            except DisseminationError as error:
                errors[f"{kind}: {_kind_of(error)}"] += 1
            times[kind].append(time.perf_counter() - start)
    results.put((dict(times), dict(errors)))


def _killer(url: str, every: float, duration: float, results: Any) -> None:
    engine = create_engine(url)
    killed = 0
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        time.sleep(every)
        with engine.begin() as connection:
            killed += len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'dissemination-registry' "
                        "AND datname = current_database()"
                    )
                ).all()
            )
    engine.dispose()
    results.put(("killed", killed))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _contradictions(url: str, prefix: str, subjects: int) -> tuple[int, int]:
    """(events contradicting their story, subjects whose replay differs from the table)."""
    bad_events = bad_subjects = 0
    with Registry(url, keys=KEYS, table_prefix=prefix) as registry:
        for index in range(subjects):
            history = registry.history(
                normalise_value("vehicle", _value(index)), by=ADMIN, now=dt.datetime.now(dt.UTC)
            )
            replayed = replay(history.events)
            bad_events += len(replayed.contradictions)
            bad_subjects += replayed.claim != history.claim
    return bad_events, bad_subjects


def _run(url: str, workers: int, args: dict[str, Any]) -> dict[str, Any]:
    prefix = f"load_{uuid.uuid4().hex[:8]}_"
    registry_database._SQLITE_SYNCHRONOUS = args["synchronous"]
    Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(target=_worker, args=(url, prefix, index, args, (barrier, results)))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    killer = None
    if args["kill_every"] and url.startswith("postgresql"):
        killer = context.Process(
            target=_killer, args=(url, args["kill_every"], args["duration"], results)
        )
        killer.start()
    times: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    killed = 0
    for _ in range(workers + (killer is not None)):
        got = results.get(timeout=args["duration"] + 600)
        if got[0] == "killed":
            killed = got[1]
            continue
        for kind, values in got[0].items():
            times[kind].extend(values)
        errors.update(got[1])
    for process in [*processes, *([killer] if killer else [])]:
        process.join(timeout=60)
    bad_events, bad_subjects = _contradictions(url, prefix, args["subjects"])
    if url.startswith("postgresql"):
        engine = create_engine(url)
        make_tables(prefix).metadata.drop_all(engine)
        engine.dispose()
    writes = [value for kind in WRITES for value in times.get(kind, [])]
    total = sum(len(values) for values in times.values())
    return {
        "workers": workers,
        "operations": total,
        "per_second": total / args["duration"],
        "write_p50_ms": 1000 * statistics.median(writes) if writes else 0.0,
        "write_p99_ms": 1000 * _percentile(writes, 0.99),
        "write_max_ms": 1000 * max(writes, default=0.0),
        "errors": dict(errors),
        "contradicting_events": bad_events,
        "subjects_replayed_differently": bad_subjects,
        "backends_killed": killed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="4,16,64")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--mix", choices=["mixed", "writers"], default="mixed")
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--kill-every", type=float, default=0.0)
    parser.add_argument("--no-queue", action="store_true")
    options = parser.parse_args()
    args = {
        "duration": options.duration,
        "subjects": options.subjects,
        "mix": options.mix,
        "synchronous": options.synchronous,
        "kill_every": options.kill_every,
        "no_queue": options.no_queue,
    }
    targets: list[tuple[str, str | None]] = []
    if options.db in {"sqlite", "both"}:
        targets.append(("sqlite", None))
    postgres = os.environ.get("DISSEMINATION_TEST_POSTGRES_URL")
    if options.db in {"postgresql", "both"}:
        if postgres:
            targets.append(("postgresql", postgres))
        else:
            print("PostgreSQL skipped: DISSEMINATION_TEST_POSTGRES_URL is not set")
    print(
        f"mix={options.mix} duration={options.duration:g}s subjects={options.subjects} "
        f"synchronous={options.synchronous} kill_every={options.kill_every:g}s "
        f"writers_queue={'off' if options.no_queue else 'on'}"
    )
    print(
        "| db | N | ops | ops/s | write p50 ms | write p99 ms | write max ms | "
        "contradicting events | subjects replayed differently | killed | errors by kind |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, url in targets:
        for workers in [int(part) for part in options.workers.split(",")]:
            with tempfile.TemporaryDirectory(prefix="dissemination-load-") as temp:
                target = url or f"sqlite:///{Path(temp) / 'registry.sqlite'}"
                row = _run(target, workers, args)
            errors = ", ".join(f"{kind} {count}" for kind, count in sorted(row["errors"].items()))
            print(
                f"| {name} | {workers} | {row['operations']} | {row['per_second']:.0f} | "
                f"{row['write_p50_ms']:.1f} | {row['write_p99_ms']:.1f} | "
                f"{row['write_max_ms']:.1f} | {row['contradicting_events']} | "
                f"{row['subjects_replayed_differently']} | {row['backends_killed']} | "
                f"{errors or 'none'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
