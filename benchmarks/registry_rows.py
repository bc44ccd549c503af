"""Row (f): the ownership registry, register and lookup, on SQLite (and PostgreSQL).

Imported by `run.py` only when `dissemination.registry` exists. PostgreSQL is
measured when `DISSEMINATION_TEST_POSTGRES_URL` names a server.
"""

from __future__ import annotations

import inspect
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.corpus import NOW
from dissemination import Item, parse_principal


def _measure(registry: Any, items: list[Item], repeats: int) -> tuple[float, float]:
    reader = parse_principal(
        {
            "id": "bench",
            "organisation": "border-force",
            "employment": "crown-servant",
            "vetting": {"level": "DV"},
            "nationality": "GBR",
        }
    )
    start = time.perf_counter()
    for item in items:
        registry.register(item, now=NOW)
    register_us = (time.perf_counter() - start) / len(items) * 1e6
    subjects = [subject for item in items for subject in item.subjects][: len(items)]
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for subject in subjects:
            registry.lookup(subject, reader, now=NOW)
        samples.append((time.perf_counter() - start) / max(1, len(subjects)) * 1e6)
    return register_us, statistics.median(samples)


def run(
    module: Any, items: list[Item], sizes: dict[str, int], note: Callable[[str], None]
) -> dict[str, Any]:
    """Register `items` (a slice of the corpus) and look up their subjects."""
    count = min(len(items), 300 if sizes["items"] >= 10_000 else 50)
    sample = [item for item in items if item.subjects][:count]
    rows: dict[str, Any] = {}
    targets = [("sqlite", None)]
    if os.environ.get("DISSEMINATION_TEST_POSTGRES_URL"):
        targets.append(("postgresql", os.environ["DISSEMINATION_TEST_POSTGRES_URL"]))
    else:
        note("(f) PostgreSQL skipped: DISSEMINATION_TEST_POSTGRES_URL is not set")
    keys = module.parse_keys(module.generate_key("bench"), source="<benchmark>")
    for name, url in targets:
        try:
            with tempfile.TemporaryDirectory(prefix="dissemination-bench-") as temp:
                target = url or f"sqlite:///{Path(temp) / 'registry.sqlite'}"
                prefix = f"bench_{uuid.uuid4().hex[:8]}_"
                # A release with migrations opens only an upgraded registry.
                upgrade = "upgrade" in inspect.signature(module.Registry).parameters
                extra = {"upgrade": True} if upgrade else {}
                registry = module.Registry(target, keys=keys, table_prefix=prefix, **extra)
                try:
                    register_us, lookup_us = _measure(registry, sample, 1)
                finally:
                    if url is not None:
                        registry.drop()
                    registry.close()
        except Exception as exc:  # noqa: BLE001 (a registry still being built must not stop the run)
            note(f"(f) {name} skipped: {type(exc).__name__}: {exc}")
            continue
        for key, label, value in (
            ("register", f"(f) registry register on {name} ({len(sample)} items)", register_us),
            ("lookup", f"(f) registry lookup on {name}", lookup_us),
        ):
            rows[f"f_{key}_{name}"] = {"label": label, "us_per_op": value, "samples": [value]}
            print(f"  {label:<58} {value:>12.2f} µs/op", flush=True)
    return rows
