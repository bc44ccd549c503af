"""Run the benchmark suite: what users meet first, then the rest, on generated data.

    .venv/bin/python benchmarks/run.py            # the full run (about 10 minutes)
    .venv/bin/python benchmarks/run.py --quick    # a smoke run (seconds), as CI does

Every row is microseconds per operation (the median of its repeats) and its
ratio to the simple rule written by hand, timed in the same run
(`benchmarks/peers.py`). The headline rows (`benchmarks/headline.py`) time
first decisions on unseen items, service requests, cold bulk passes in fresh
processes, masking at scale and the peer engines; hot rows are labelled as
cache hits. The full run writes `benchmarks/results.json` (committed; the
table in docs/performance.md is rendered from it by `benchmarks/report.py`);
`--quick` writes only to `--out` (or `benchmarks/results/`, git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` as well as `-m benchmarks.run`
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus, floor, headline, timing  # noqa: E402
from benchmarks.timing import median_us  # noqa: E402
from dissemination import (  # noqa: E402
    Item,
    Principal,
    decide,
    default_policy,
    parse_item,
    parse_principal,
)

NOW = corpus.NOW

FULL = {
    "items": 2_000,
    "readers": 50,
    "pairs": 50_000,
    "naive_pairs": 300,
    "repeats": 5,
    "startup_runs": 7,
}
QUICK = {
    "items": 300,
    "readers": 10,
    "pairs": 3_000,
    "naive_pairs": 30,
    "repeats": 3,
    "startup_runs": 3,
}
"""Sizes of the rows beside the headline (the headline's own are in `benchmarks/headline.py`)."""


# -- children: run in a fresh interpreter so their time and memory are their own ----------


_STARTUP = (
    "import time; start = time.perf_counter(); import dissemination; "
    "dissemination.default_policy(); print(time.perf_counter() - start)"
)
"""Run by a fresh interpreter: the seconds to import the library and load the default policy."""


def _startup_seconds() -> float:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _STARTUP], check=True, capture_output=True, text=True
    )
    return float(done.stdout.strip().splitlines()[-1])


# -- the optional rows: registry and signed labels ---------------------------------------


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _registry_rows(quick: bool, note: Callable[[str], None]) -> dict[str, Any]:
    """Row (f), in a child with a time and memory limit: the registry is young code."""
    registry = _optional("dissemination.registry")
    if registry is None or not hasattr(registry, "Registry"):
        note("(f) skipped: `dissemination.registry` is not available in this checkout")
        return {}
    command = [sys.executable, str(Path(__file__).resolve()), "--child-registry"]
    command += ["--quick"] if quick else []
    try:
        done = subprocess.run(  # noqa: S603
            command, check=True, capture_output=True, text=True, timeout=20 if quick else 180
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        note(f"(f) skipped: the registry child failed ({type(exc).__name__})")
        return {}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    notes: list[str] = result.pop("notes", [])
    for text in notes:
        note(text)
    return result


def _child_registry(quick: bool) -> None:
    import resource  # noqa: PLC0415 (POSIX only, and only the child needs it)

    limit = 2 * 1024**3  # a registry that runs away must not take the machine with it
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from benchmarks import registry_rows  # noqa: PLC0415 (only when the registry exists)

    sizes = QUICK if quick else FULL
    item_data, _ = corpus.generate(sizes["items"], 1)
    items = [parse_item(data) for data in item_data]
    notes: list[str] = []
    rows = registry_rows.run(
        importlib.import_module("dissemination.registry"), items, sizes, notes.append
    )
    print(json.dumps({**rows, "notes": notes}))


def _integrity_rows(
    items: list[Item], readers: list[Principal], sizes: dict[str, int], note: Callable[[str], None]
) -> dict[str, Any]:
    integrity = _optional("dissemination.integrity")
    if integrity is None or not hasattr(integrity, "LabelVerifier"):
        note("(g) skipped: `dissemination.integrity` is not available in this checkout")
        return {}
    from benchmarks import integrity_rows  # noqa: PLC0415 (only when signing exists)

    return integrity_rows.run(integrity, items, readers, sizes, note)


# -- the run ---------------------------------------------------------------------------------

RESULTS = ROOT / "benchmarks" / "results.json"
"""The full run's results, committed: docs/performance.md quotes them (`benchmarks/report.py`)."""


def _other_rows(
    sizes: dict[str, int], row: Callable[..., None], note: Callable[[str], None]
) -> dict[str, Any]:
    """Rows beside the headline: the project's casbin path, the §4 floor, registry, labels."""
    repeats = sizes["repeats"]
    item_data, reader_data = corpus.generate(sizes["items"], sizes["readers"])
    policy = default_policy()
    items = [parse_item(data) for data in item_data]
    readers = [parse_principal(data) for data in reader_data]
    step = max(1, len(readers) * len(items) // sizes["pairs"])
    pairs = [(reader, item) for reader in readers[::step] for item in items][: sizes["pairs"]]
    naive_pairs = random.Random(7).sample(pairs, sizes["naive_pairs"])

    # the floor must agree with the library on every timed pair, or it is no yardstick
    views: dict[int, int] = {}
    disagree = 0
    for reader, item in pairs:
        library = decide(reader, item, now=NOW, policy=policy).view
        views[int(library)] = views.get(int(library), 0) + 1
        disagree += int(library) != floor.view(reader, item, NOW)
    if disagree:
        note(f"WARNING: the floor disagrees with the library on {disagree} of {len(pairs)} pairs")

    # the project's casbin model asked per decision, no cache (facts precomputed: casbin alone)
    engine = policy.engine
    fact_sets = [decide(reader, item, now=NOW, policy=policy).facts for reader, item in naive_pairs]

    def naive() -> None:
        for facts in fact_sets:
            engine.decide_view_uncached(facts)

    row(
        "x_project_casbin_uncached",
        "project's casbin model (4 enforce calls), uncached",
        *median_us(naive, len(fact_sets), repeats),
        group="other",
    )
    view = floor.view

    def hand() -> None:
        for reader, item in pairs:
            view(reader, item, NOW)

    row(
        "x_floor_models",
        "DESIGN §4 view rules by hand over the pydantic models",
        *median_us(hand, len(pairs), repeats),
        group="other",
    )
    optional = _registry_rows(sizes is QUICK, note)
    optional.update(_integrity_rows(items, readers, sizes, note))
    for key, values in optional.items():
        label = re.sub(r"^\(\w\)\s*", "", values.pop("label"))  # their old letters: not headline
        us, samples = values.pop("us_per_op"), values.pop("samples", None)
        values.pop("group", None)
        row(key, label, us, samples, group="other", **values)
    return {"floor_disagreements": disagree, "views": views}


def run(quick: bool, out: Path | None) -> dict[str, Any]:
    """Run every row; write the results (the full run also to `benchmarks/results.json`)."""
    sizes = QUICK if quick else FULL
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        print(text, flush=True)

    rows: dict[str, dict[str, Any]] = {}

    def row(
        key: str,
        label: str,
        us: float | None,
        samples: list[float] | None = None,
        **extra: Any,
    ) -> None:
        wall = timing.WALL[0] if timing.WALL else None
        timing.WALL.clear()
        # the yardstick under the same load as the row (the yardstick's own row is x1)
        local = us if key == "simple_by_hand" and us else headline.yardstick()
        rows[key] = {
            "wall_us_per_op": wall,
            "label": label,
            "us_per_op": us,
            "samples": samples or [us],
            "yardstick_us": local,
            "ratio_to_simple": None if us is None else us / local,
            **extra,
        }
        shown = "unavailable" if us is None else f"{us:>12.2f} µs/op"
        print(f"  {label:<72} {shown}", flush=True)

    mode = "quick" if quick else "full"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"benchmarks ({mode}): {python}, {os.cpu_count()} cores")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None

    # import + default policy, in fresh interpreters
    startups = [_startup_seconds() for _ in range(sizes["startup_runs"])]
    startup_ms = statistics.median(startups) * 1000
    bare = []
    for _ in range(sizes["startup_runs"]):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    bare_ms = statistics.median(bare) * 1000
    print(f"  import + default_policy(): {startup_ms:.0f} ms (interpreter alone {bare_ms:.0f} ms)")

    extra = headline.run(quick, row, note)
    extra.update(_other_rows(sizes, row, note))

    yardstick = rows["simple_by_hand"]["us_per_op"]
    print()
    print(f"  {'row':<72} {'µs/op':>10} {'x simple rule by hand':>22}")
    for values in rows.values():
        us = values["us_per_op"]
        if us is None:
            print(f"  {values['label']:<72} {'unavailable':>10}")
            continue
        print(f"  {values['label']:<72} {us:>10.2f} {values['ratio_to_simple']:>22,.0f}")

    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "mode": mode,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average_at_start": load,
        "sizes": sizes,
        "startup_ms": startup_ms,
        "startup_samples_ms": [s * 1000 for s in startups],
        "interpreter_ms": bare_ms,
        "yardstick_us": yardstick,
        "rows": rows,
        "notes": notes,
        **extra,
    }
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    targets = [] if quick else [RESULTS]
    if out is not None:
        targets.append(out if out.suffix == ".json" else out / "results.json")
    elif quick:
        stamp = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
        targets.append(ROOT / "benchmarks" / "results" / f"quick-{stamp}.json")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"results: {target}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run in seconds (CI)")
    parser.add_argument(
        "--out", type=Path, help="where to write the JSON results (file or directory)"
    )
    parser.add_argument(
        "--child-filter-cold", nargs=2, metavar=("PATH", "READER"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--child-fresh", nargs=2, metavar=("READERS", "ITEMS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--child-registry", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_registry:
        _child_registry(quick=args.quick)
        return 0
    if args.child_filter_cold:
        print(json.dumps(headline.child_filter(*args.child_filter_cold)))
        return 0
    if args.child_fresh:
        readers, items = (int(value) for value in args.child_fresh)
        print(json.dumps(headline.child_fresh(readers, items)))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        run(args.quick, args.out)
        return 0
    return 130


if __name__ == "__main__":
    sys.exit(main())
