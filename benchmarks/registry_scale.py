"""Registry scale: batch registration rate, bytes per subject, lookup latency by number of links.

    .venv/bin/python benchmarks/registry_scale.py [--items 20000] [--batch 500]

Registers `--items` synthetic items (three subjects each: a container, a
vehicle and a phone; see `registry_bench`) with `Registry.register_many`, one
transaction per batch of `--batch` items, and reports subjects registered per
second and the bytes the database holds per subject (the SQLite file after a
WAL checkpoint; on PostgreSQL the total relation size of the registry's
tables). Then it links one container to 100 items and another to 10,000, and
times lookups (first page, `DEFAULT_PAGE` items) of subjects with 1, 100 and
10,000 linked items, all visible to the reader, p50 and p99. PostgreSQL runs
too when `DISSEMINATION_TEST_POSTGRES_URL` is set (tables of its own, dropped
afterwards). A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry_bench import KEYS, NOW, READER, _container, _items
from dissemination import Item, parse_item
from dissemination.identifiers import NormalisedIdentifier, normalise_value
from dissemination.registry import Registry


def _hub_items(container: str, count: int, prefix: str) -> list[Item]:
    return [
        parse_item(
            {
                "id": f"{prefix}-{index:06d}",
                "title": "Hub item",
                "created": "2026-11-20T09:14:00Z",
                "classification": "OFFICIAL-SENSITIVE",
                "originator": {"organisation": "border-force", "unit": "FIC Hull"},
                "owner": {
                    "organisation": "border-force",
                    "unit": "FIC Hull",
                    "contact": "fic.hull@example.gov.uk",
                },
                "subjects": [{"type": "container", "value": container}],
                "portions": [{"id": "p1", "category": "tearline", "text": "Examine."}],
            }
        )
        for index in range(count)
    ]


def _size(url: str, prefix: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if url.startswith("sqlite"):
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                path = Path(url.removeprefix("sqlite:///"))
                return path.stat().st_size
            names = [f"{prefix}{name}" for name in ("meta", "claims", "links", "items", "events")]
            return int(
                sum(
                    connection.execute(
                        text("SELECT pg_total_relation_size(CAST(:name AS regclass))"),
                        {"name": name},
                    ).scalar_one()
                    for name in names
                )
            )
    finally:
        engine.dispose()


def _latencies(
    registry: Registry, identifiers: list[NormalisedIdentifier], rounds: int
) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for identifier in identifiers:
            started = time.perf_counter()
            answer = registry.lookup(identifier, READER, now=NOW)
            samples.append((time.perf_counter() - started) * 1000)
            if not answer.items:
                raise SystemExit("a visible subject answered nothing: the benchmark is wrong")
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def _run(url: str, prefix: str, options: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    items, containers = _items(options.items, rng)
    subjects = sum(len(item.subjects) for item in items)
    row: dict[str, Any] = {}
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        try:
            started = time.perf_counter()
            for start in range(0, len(items), options.batch):
                registry.register_many(items[start : start + options.batch], now=NOW)
            elapsed = time.perf_counter() - started
            row["subjects_per_second"] = subjects / elapsed
            row["bytes_per_subject"] = _size(url, prefix) / subjects
            hubs = {}
            for links in (100, 10_000):
                hub = _container(rng)
                hubs[links] = normalise_value("container", hub)
                batch = _hub_items(hub, links, f"HUB{links}")
                for start in range(0, len(batch), options.batch):
                    registry.register_many(batch[start : start + options.batch], now=NOW)
            single = [normalise_value("vehicle", item.subjects[1].value) for item in items[:2000]]  # type: ignore[union-attr]
            row["lookup_1"] = _latencies(registry, single, 1)
            row["lookup_100"] = _latencies(registry, [hubs[100]], 200)
            row["lookup_10000"] = _latencies(registry, [hubs[10_000]], 50)
        finally:
            if not url.startswith("sqlite"):
                registry.drop()
    del containers
    return row


def main() -> None:
    """Print the table (one row per database)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    targets = [("sqlite", None)]
    if os.environ.get("DISSEMINATION_TEST_POSTGRES_URL"):
        targets.append(("postgresql", os.environ["DISSEMINATION_TEST_POSTGRES_URL"]))
    print(f"{options.items} items ({3 * options.items} subjects), batches of {options.batch}")
    print(
        f"{'db':<11}{'subjects/s':>11}{'bytes/subj':>11}"
        f"{'1 link p50/p99 ms':>20}{'100 links':>16}{'10,000 links':>16}"
    )
    for name, url in targets:
        with tempfile.TemporaryDirectory() as directory:
            target = url or f"sqlite:///{directory}/registry.sqlite"
            row = _run(target, f"scale{uuid.uuid4().hex[:8]}_", options, rng)

        def pair(key: str, row: dict[str, Any] = row) -> str:
            return f"{row[key][0]:.3f}/{row[key][1]:.3f}"

        print(
            f"{name:<11}{row['subjects_per_second']:>11.0f}{row['bytes_per_subject']:>11.0f}"
            f"{pair('lookup_1'):>20}{pair('lookup_100'):>16}{pair('lookup_10000'):>16}",
            flush=True,
        )


if __name__ == "__main__":
    main()
