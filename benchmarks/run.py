"""Run the benchmark suite: every path side by side, on one generated corpus.

    .venv/bin/python benchmarks/run.py            # the full run (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # a smoke run (seconds), as CI does

It prints microseconds per operation (the median of several repeats) with the
ratio to the naive casbin path (a) and to the hand-written floor (e), and
writes the results as JSON to `benchmarks/results/` (or `--out`). See
docs/performance.md for what each row measures and the targets.
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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` as well as `-m benchmarks.run`
    sys.path.insert(0, str(ROOT))

from benchmarks import corpus, floor  # noqa: E402
from dissemination import (  # noqa: E402
    Item,
    Principal,
    decide,
    default_policy,
    filter,
    iter_items,
    parse_item,
    parse_principal,
    render,
    render_text,
)

NOW = corpus.NOW

FULL = {
    "items": 10_000,
    "readers": 50,
    "pairs": 100_000,
    "render_pairs": 20_000,
    "naive_pairs": 300,
    "filter_items": 100_000,
    "memory_lines": 1_000_000,
    "repeats": 5,
    "startup_runs": 7,
}
QUICK = {
    "items": 1_000,
    "readers": 10,
    "pairs": 5_000,
    "render_pairs": 2_000,
    "naive_pairs": 30,
    "filter_items": 5_000,
    "memory_lines": 10_000,
    "repeats": 3,
    "startup_runs": 3,
}


def _median_us(run: Callable[[], object], ops: int, repeats: int) -> tuple[float, list[float]]:
    """Run `run` (which does `ops` operations) `repeats` times: median µs/op and each repeat."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) / ops * 1e6)
    return statistics.median(samples), samples


def _lines(items: list[dict[str, Any]], count: int) -> Iterator[str]:
    """`count` JSON Lines, cycling the corpus with fresh, unique ids."""
    encoded = [(data["id"], json.dumps(data)) for data in items]
    for number in range(count):
        old, line = encoded[number % len(encoded)]
        yield line.replace(f'"{old}"', f'"BEN-{number:07d}"', 1) + "\n"


def _write_jsonl(path: Path, items: list[dict[str, Any]], count: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(_lines(items, count))
    return path


def _pick_reader(readers: list[Principal]) -> Principal:
    """A typical reader for the bulk rows: a crown servant with current SC or above."""
    for reader in readers:
        vetting = reader.vetting
        if (
            reader.employment == "crown-servant"
            and vetting is not None
            and vetting.level in ("SC", "eSC", "DV")
            and (vetting.expires is None or vetting.expires > NOW.date())
        ):
            return reader
    return readers[0]


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


def _child_filter(path: str, reader_json: str) -> None:
    import resource  # noqa: PLC0415 (POSIX only, and only the child needs it)

    reader = parse_principal(json.loads(reader_json))
    start = time.perf_counter()
    count = shown = 0
    size = 0
    for document in filter(reader, iter_items(path), now=NOW):
        size += len(json.dumps(document))
        shown += 1
    with Path(path).open(encoding="utf-8") as handle:
        count = sum(1 for _ in handle)
    seconds = time.perf_counter() - start
    # ru_maxrss survives exec on Linux (it keeps the forking parent's peak), so the
    # process's own high-water mark comes from /proc when there is one.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    print(
        json.dumps(
            {
                "lines": count,
                "shown": shown,
                "bytes": size,
                "seconds": seconds,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def _run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


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
    print(done.stdout.rstrip(), flush=True)
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


def run(quick: bool, out: Path | None) -> dict[str, Any]:  # noqa: PLR0915 (one linear script)
    sizes = QUICK if quick else FULL
    repeats = sizes["repeats"]
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        print(text, flush=True)

    rows: dict[str, dict[str, Any]] = {}

    def row(
        key: str, label: str, us: float, samples: list[float] | None = None, **extra: Any
    ) -> None:
        rows[key] = {"label": label, "us_per_op": us, "samples": samples or [us], **extra}
        print(f"  {label:<58} {us:>12.2f} µs/op", flush=True)

    mode = "quick" if quick else "full"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"benchmarks ({mode}): {python}, {os.cpu_count()} cores")

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

    # the corpus
    start = time.perf_counter()
    item_data, reader_data = corpus.generate(sizes["items"], sizes["readers"])
    policy = default_policy()
    items = [parse_item(data) for data in item_data]
    readers = [parse_principal(data) for data in reader_data]
    parse_us = (time.perf_counter() - start) / len(items) * 1e6
    # A screen of items per reader: every reader in turn over the corpus in order, as
    # many readers as make `pairs` decisions (the naive and render rows take a sample).
    step = max(1, len(readers) * len(items) // sizes["pairs"])
    pairs = [(reader, item) for reader in readers[::step] for item in items][: sizes["pairs"]]
    rng = random.Random(7)
    render_pairs = rng.sample(pairs, sizes["render_pairs"])
    naive_pairs = rng.sample(pairs, sizes["naive_pairs"])
    print(f"  corpus: {len(items)} items, {len(readers)} readers, {len(pairs)} pairs timed")

    # the floor must agree with the library on every timed pair, or it is no yardstick
    views: dict[int, int] = {}
    disagree = 0
    for reader, item in pairs:
        library = decide(reader, item, now=NOW, policy=policy).view
        views[int(library)] = views.get(int(library), 0) + 1
        disagree += int(library) != floor.view(reader, item, NOW)
    if disagree:
        note(f"WARNING: the floor disagrees with the library on {disagree} of {len(pairs)} pairs")
    print(f"  views over the timed pairs (0 none .. 4 full): {dict(sorted(views.items()))}")

    # (a) naive: casbin asked per decision, no cache (facts precomputed, so this is casbin alone)
    engine = policy.engine
    fact_sets = [decide(reader, item, now=NOW, policy=policy).facts for reader, item in naive_pairs]

    def naive() -> None:
        for facts in fact_sets:
            engine.decide_view_uncached(facts)

    row(
        "a_naive_casbin",
        "(a) naive: casbin enforce per decision, uncached",
        *_median_us(naive, len(fact_sets), repeats),
    )

    # (b) decide, hot (one warm pass first)
    def hot() -> None:
        for reader, item in pairs:
            decide(reader, item, now=NOW, policy=policy)

    hot()
    row("b_decide_hot", "(b) decide, hot (kept decisions)", *_median_us(hot, len(pairs), repeats))

    # (b') decide, each pair for the first time: item plans and casbin's answers warm, but
    # fresh reader objects, so no decision kept for the pair can answer
    fresh_sets = iter([[reader.model_copy() for reader in readers] for _ in range(repeats)])
    by_id: dict[str, Principal] = {}

    def first_time() -> None:
        by_id.update((reader.id, reader) for reader in next(fresh_sets))
        for reader, item in pairs:
            decide(by_id[reader.id], item, now=NOW, policy=policy)

    row(
        "b_decide_first",
        "(b') decide, first time per pair (plans warm)",
        *_median_us(first_time, len(pairs), repeats),
    )

    # (c) decide + render
    def to_json() -> None:
        for reader, item in render_pairs:
            json.dumps(render(item, decide(reader, item, now=NOW, policy=policy)))

    def to_text() -> None:
        for reader, item in render_pairs:
            render_text(item, decide(reader, item, now=NOW, policy=policy))

    to_json()
    row(
        "c_decide_render_json",
        "(c) decide + render to JSON (json.dumps(render()))",
        *_median_us(to_json, len(render_pairs), repeats),
    )
    row(
        "c_decide_render_text",
        "(c) decide + render_text",
        *_median_us(to_text, len(render_pairs), repeats),
    )

    # (e) the floor
    view = floor.view

    def hand() -> None:
        for reader, item in pairs:
            view(reader, item, NOW)

    row(
        "e_floor",
        "(e) floor: hand-written Python of the DESIGN §4 rules",
        *_median_us(hand, len(pairs), repeats),
    )

    # (d) filter for one reader: parsed items, then a JSON Lines file end to end
    reader = _pick_reader(readers)
    bulk = [
        items[n % len(items)].model_copy(update={"id": f"BEN-{n:07d}"})
        for n in range(sizes["filter_items"])
    ]
    shown = 0

    def filter_parsed() -> None:
        nonlocal shown
        shown = sum(1 for _ in filter(reader, bulk, now=NOW, policy=policy))

    us, samples = _median_us(filter_parsed, len(bulk), max(3, repeats - 2))
    row(
        "d_filter_parsed",
        f"(d) filter {len(bulk):,} parsed items, one reader (per item)",
        us,
        samples,
        total_s=us * len(bulk) / 1e6,
        shown=shown,
    )
    bulk.clear()
    with tempfile.TemporaryDirectory(prefix="dissemination-bench-") as temp:
        path = _write_jsonl(Path(temp) / "items.jsonl", item_data, sizes["filter_items"])

        def filter_file() -> None:
            for document in filter(reader, iter_items(path, policy=policy), now=NOW, policy=policy):
                json.dumps(document)

        us, samples = _median_us(filter_file, sizes["filter_items"], max(3, repeats - 2))
        row(
            "d_filter_jsonl",
            f"(d) filter {sizes['filter_items']:,}-line JSON Lines to JSON (per item)",
            us,
            samples,
            total_s=us * sizes["filter_items"] / 1e6,
        )

        # constant memory: the same filter in a fresh interpreter, over a short and a long file
        reader_json = reader.model_dump_json()
        small = _run_child("--child-filter", str(path), reader_json)
        big_path = _write_jsonl(Path(temp) / "big.jsonl", item_data, sizes["memory_lines"])
        big = _run_child("--child-filter", str(big_path), reader_json)
        big_path.unlink()
    memory = {
        f"{small['lines']}_lines": small,
        f"{big['lines']}_lines": big,
    }
    print(
        f"  peak RSS, filter over JSON Lines: {small['lines']:,} lines {small['peak_mb']:.0f} MB;"
        f" {big['lines']:,} lines {big['peak_mb']:.0f} MB ({big['seconds']:.0f} s)"
    )

    rows.update(_registry_rows(quick, note))
    rows.update(_integrity_rows(items, readers, sizes, note))

    naive_us = rows["a_naive_casbin"]["us_per_op"]
    floor_us = rows["e_floor"]["us_per_op"]
    print()
    print(f"  {'row':<58} {'µs/op':>10} {'x naive (a)':>12} {'x floor (e)':>12}")
    for values in rows.values():
        values["ratio_to_naive"] = values["us_per_op"] / naive_us
        values["ratio_to_floor"] = values["us_per_op"] / floor_us
        us, to_naive, to_floor = (
            values[k] for k in ("us_per_op", "ratio_to_naive", "ratio_to_floor")
        )
        print(f"  {values['label']:<58} {us:>10.2f} {to_naive:>12.4f} {to_floor:>12.2f}")
    print(f"  naive / decide hot: {naive_us / rows['b_decide_hot']['us_per_op']:.0f}x faster")
    print(f"  item validation (parse_item), for scale: {parse_us:.1f} µs/item")

    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "mode": "quick" if quick else "full",
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "sizes": sizes,
        "startup_ms": startup_ms,
        "startup_samples_ms": [s * 1000 for s in startups],
        "interpreter_ms": bare_ms,
        "parse_item_us": parse_us,
        "floor_disagreements": disagree,
        "views": views,
        "rows": rows,
        "memory": memory,
        "notes": notes,
    }
    target = (
        out
        or ROOT
        / "benchmarks"
        / "results"
        / f"{'quick' if quick else 'full'}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    )
    if target.suffix != ".json":
        target = target / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {target}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run in seconds (CI)")
    parser.add_argument(
        "--out", type=Path, help="where to write the JSON results (file or directory)"
    )
    parser.add_argument(
        "--child-filter", nargs=2, metavar=("PATH", "READER"), help=argparse.SUPPRESS
    )
    parser.add_argument("--child-registry", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_registry:
        _child_registry(args.quick)
        return 0
    if args.child_filter:
        _child_filter(*args.child_filter)
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        run(args.quick, args.out)
        return 0
    return 130


if __name__ == "__main__":
    sys.exit(main())
