"""Registry lookup timing: can one lookup's time tell a hidden subject from an unknown one?

    .venv/bin/python benchmarks/registry_timing.py [--lookups 2000] [--links 1 5]

A *hidden* subject is registered, but every item linked to it is at `none` for
the reader (`recipients_only` someone else); an *unknown* subject was never
registered. Both answers are byte for byte the same (a test holds them so);
this measures whether the time of one lookup tells them apart (issue 10,
item 7). For each number of links, it looks up `--lookups` hidden and as many
unknown subjects, interleaved in random order, each a different subject,
through `Registry.lookup` on SQLite (and PostgreSQL when
`DISSEMINATION_TEST_POSTGRES_URL` is set), and times each.

The classifier is the best single threshold on the time (either direction):
chosen on one half of the lookups, scored on the other half. 50% is a coin;
the target is at most 60%. A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from stdnum import iso6346

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry_bench import KEYS, NOW, READER
from dissemination import Item, parse_item
from dissemination.identifiers import NormalisedIdentifier, normalise_value
from dissemination.registry import Registry


def _containers(count: int, rng: random.Random) -> list[str]:
    seen: set[str] = set()
    while len(seen) < count:
        body = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=3)) + "U"
        body += "".join(rng.choices("0123456789", k=6))
        seen.add(body + iso6346.calc_check_digit(body))
    return sorted(seen)


def _hidden_item(index: int, container: str) -> Item:
    return parse_item(
        {
            "id": f"HIDDEN-{index:06d}",
            "title": "Hidden item",
            "created": "2026-11-20T09:14:00Z",
            "classification": "OFFICIAL-SENSITIVE",
            "originator": {"organisation": "border-force", "unit": "FIC Hull"},
            "owner": {
                "organisation": "border-force",
                "unit": "FIC Hull",
                "contact": "fic.hull@example.gov.uk",
            },
            "handling": [{"kind": "recipients_only", "principals": ["someone-else"]}],
            "grading": {
                "source": "2",
                "intelligence": "B",
                "handling_code": "C",
                "conditions": "Not for evidential use",
            },
            "subjects": [{"type": "container", "value": container}],
            "portions": [{"id": "p1", "category": "tearline", "text": "Examine."}],
        }
    )


def _accuracy(hidden: list[float], unknown: list[float]) -> tuple[float, float]:
    """(held-out accuracy, in-sample accuracy) of the best threshold classifier."""

    def best(samples: list[tuple[float, int]]) -> tuple[float, int]:
        samples = sorted(samples)
        total_hidden = sum(label for _, label in samples)
        below_hidden = 0
        best_score, best_threshold, best_sign = -1.0, samples[0][0], 1
        for position, (time_taken, label) in enumerate(samples):
            below_hidden += label
            below = position + 1
            # "hidden when slower than the threshold": unknowns below, hiddens above
            right = (below - below_hidden) + (total_hidden - below_hidden)
            for score, sign in ((right, 1), (len(samples) - right, -1)):
                if score > best_score:
                    best_score, best_threshold, best_sign = score, time_taken, sign
        return best_threshold, best_sign

    def score(samples: list[tuple[float, int]], threshold: float, sign: int) -> float:
        right = sum(((time_taken > threshold) == bool(label)) for time_taken, label in samples)
        return (right if sign == 1 else len(samples) - right) / len(samples)

    labelled = [(t, 1) for t in hidden] + [(t, 0) for t in unknown]
    random.Random(1).shuffle(labelled)
    half = len(labelled) // 2
    threshold, sign = best(labelled[:half])
    held_out = score(labelled[half:], threshold, sign)
    threshold, sign = best(labelled)
    return held_out, score(labelled, threshold, sign)


def _measure(url: str, prefix: str, links: int, lookups: int, rng: random.Random) -> str:
    values = _containers(2 * lookups, rng)
    hidden_values, unknown_values = values[:lookups], values[lookups:]
    items = [
        _hidden_item(index * links + copy, value)
        for index, value in enumerate(hidden_values)
        for copy in range(links)
    ]
    with Registry(url, keys=KEYS, table_prefix=prefix, upgrade=True) as registry:
        register = getattr(registry, "register_many", None)
        if register is not None:
            register(items, now=NOW)
        else:
            for item in items:
                registry.register(item, now=NOW)
        order: list[tuple[int, NormalisedIdentifier]] = [
            (1, normalise_value("container", value)) for value in hidden_values
        ] + [(0, normalise_value("container", value)) for value in unknown_values]
        rng.shuffle(order)
        for _, identifier in order[:200]:  # warm up the connection pool and caches
            registry.lookup(identifier, READER, now=NOW)
        times: dict[int, list[float]] = {0: [], 1: []}
        gc.disable()
        try:
            for label, identifier in order:
                started = time.perf_counter_ns()
                answer = registry.lookup(identifier, READER, now=NOW)
                times[label].append((time.perf_counter_ns() - started) / 1000)
                if answer.found:
                    raise SystemExit("a hidden subject was found: the benchmark is wrong")
        finally:
            gc.enable()
        if not url.startswith("sqlite"):
            registry.drop()
    held_out, in_sample = _accuracy(times[1], times[0])
    return (
        f"{links:>5} {statistics.median(times[1]):>12.1f} {statistics.median(times[0]):>13.1f}"
        f" {100 * held_out:>11.1f}% {100 * in_sample:>11.1f}%"
    )


def main() -> None:
    """Print, per database and number of links, the medians and the classifier's accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--links", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    targets = [("sqlite", None)]
    if os.environ.get("DISSEMINATION_TEST_POSTGRES_URL"):
        targets.append(("postgresql", os.environ["DISSEMINATION_TEST_POSTGRES_URL"]))
    print(f"{options.lookups} hidden and {options.lookups} unknown lookups per row")
    print(f"{'db':<11}{'links':>5} {'hidden µs p50':>12} {'unknown µs p50':>13} {'held-out':>12}")
    for name, url in targets:
        for links in options.links:
            with tempfile.TemporaryDirectory() as directory:
                target = url or f"sqlite:///{directory}/registry.sqlite"
                prefix = f"timing{uuid.uuid4().hex[:8]}_"
                row = _measure(target, prefix, links, options.lookups, rng)
            print(f"{name:<11}{row}   (held-out, in-sample accuracy)", flush=True)


if __name__ == "__main__":
    main()
