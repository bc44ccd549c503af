"""Registry benchmark: registrations per second and lookup latency, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/registry_bench.py [--items 2000] [--lookups 2000]

Registers synthetic items (three subjects each: a container, a vehicle and a
phone, one in five containers shared with an earlier item so that some
registrations find an owner), one transaction per item, then times lookups
of registered and unregistered identifiers through the policy as one reader.
PostgreSQL runs too when `DISSEMINATION_TEST_POSTGRES_URL` is set (in tables
of its own, dropped afterwards). Prints a table and writes JSON to
`benchmarks/results/`. A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from stdnum import iso6346

from dissemination import Item, parse_item, parse_principal
from dissemination.identifiers import NormalisedIdentifier, normalise_value
from dissemination.registry import Registry, parse_keys

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
KEYS = parse_keys("bench:" + "q" * 43, source="<bench>")
RESULTS = Path(__file__).resolve().parent / "results"
READER = parse_principal(
    {
        "id": "bench-reader",
        "organisation": "border-force",
        "employment": "crown-servant",
        "vetting": {"level": "SC"},
        "nationality": "GBR",
    }
)


def _container(rng: random.Random) -> str:
    body = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=3)) + "U"
    body += "".join(rng.choices("0123456789", k=6))
    return body + iso6346.calc_check_digit(body)


def _items(count: int, rng: random.Random) -> tuple[list[Item], list[str]]:
    containers: list[str] = []
    items = []
    for index in range(count):
        shared = containers and rng.random() < 0.2
        container = rng.choice(containers) if shared else _container(rng)
        containers.append(container)
        plate = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2)) + f"{rng.randint(10, 99)}"
        plate += "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=3))
        handling = [] if index % 4 else [{"kind": "releasable_to", "organisations": ["nca"]}]
        items.append(
            parse_item(
                {
                    "id": f"BENCH-{index:06d}",
                    "title": "Benchmark item",
                    "created": "2026-11-20T09:14:00Z",
                    "classification": "OFFICIAL-SENSITIVE",
                    "originator": {"organisation": "border-force", "unit": "FIC Hull"},
                    "owner": {
                        "organisation": "border-force",
                        "unit": "FIC Hull",
                        "contact": "fic.hull@example.gov.uk",
                    },
                    "handling": handling,
                    "subjects": [
                        {"type": "container", "value": container},
                        {"type": "vehicle", "value": plate},
                        {"type": "phone", "value": f"07700 9{index % 100000:05d}"},
                    ],
                    "portions": [{"id": "p1", "category": "tearline", "text": "Examine."}],
                }
            )
        )
    return items, containers


def _run(
    url: str, prefix: str, items: list[Item], lookups: list[NormalisedIdentifier]
) -> dict[str, Any]:
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        started = time.perf_counter()
        for item in items:
            registry.register(item, now=NOW)
        elapsed = time.perf_counter() - started
        latencies = []
        for identifier in lookups:
            begin = time.perf_counter()
            registry.lookup(identifier, READER, now=NOW)
            latencies.append(time.perf_counter() - begin)
        if not url.startswith("sqlite"):
            registry.drop()
    subjects = sum(len(item.subjects) for item in items)
    latencies.sort()
    return {
        "items": len(items),
        "subjects": subjects,
        "register_seconds": round(elapsed, 3),
        "items_per_second": round(len(items) / elapsed, 1),
        "subjects_per_second": round(subjects / elapsed, 1),
        "lookups": len(latencies),
        "lookup_median_ms": round(statistics.median(latencies) * 1000, 3),
        "lookup_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    items, containers = _items(options.items, rng)
    known = [
        normalise_value("container", rng.choice(containers)) for _ in range(options.lookups // 2)
    ]
    unknown = [normalise_value("container", _container(rng)) for _ in range(options.lookups // 2)]
    lookups = known + unknown
    rng.shuffle(lookups)

    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "backends": {},
    }
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/registry.sqlite"
        results["backends"]["sqlite"] = _run(url, "registry_", items, lookups)
    postgres = os.environ.get("DISSEMINATION_TEST_POSTGRES_URL")
    if postgres:
        prefix = f"bench{uuid.uuid4().hex[:8]}_"
        results["backends"]["postgresql"] = _run(postgres, prefix, items, lookups)
    else:
        print("PostgreSQL skipped: DISSEMINATION_TEST_POSTGRES_URL is not set")

    print(f"{'backend':<12}{'items/s':>10}{'subjects/s':>12}{'lookup median ms':>18}{'p95 ms':>9}")
    for name, row in results["backends"].items():
        print(
            f"{name:<12}{row['items_per_second']:>10}{row['subjects_per_second']:>12}"
            f"{row['lookup_median_ms']:>18}{row['lookup_p95_ms']:>9}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"registry-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
