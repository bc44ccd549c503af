"""Integrity benchmark: decisions with a verified label (cold, cached) and trail appends.

    .venv/bin/python benchmarks/integrity_bench.py            # a few seconds
    .venv/bin/python benchmarks/integrity_bench.py --quick    # a smoke run

Every figure is the median over single operations, in microseconds:

- `decide_unsigned`: a decision under the default profile (no signature check),
  the baseline;
- `decide_signed_cold`: a decision under `require_signed_labels` with a fresh
  verifier each time (label built, canonicalised, Ed25519 verified);
- `decide_signed_cached`: the same with a warm verifier (one item digest);
- `verify_label`: `verify_label` alone; `sign_label`: signing alone;
- `append_jsonl_fsync`, `append_jsonl`: one trail record to a JSON Lines file,
  with and without `fsync` (lock, read head, hash, write);
- `append_sqlite`: one record to a SQLite trail (one transaction, WAL);
- `append_postgres`: the same on PostgreSQL (with `--postgres URL`);
- `verify_trail_per_record`: verifying a trail, per record.

Results are printed and written as JSON to `benchmarks/results/`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dissemination import (  # noqa: E402
    DEFAULT_POLICY_DIR,
    decide,
    default_policy,
    load_item,
    load_policy,
    load_principal,
)
from dissemination.audit import DatabaseSink, Disclosure, JsonlSink, verify_trail  # noqa: E402
from dissemination.audit.records import Checkpointer  # noqa: E402
from dissemination.integrity import (  # noqa: E402
    LabelVerifier,
    TrustStore,
    generate_key,
    sign_label,
    verify_label,
)

EXAMPLES = ROOT / "examples" / "humber"
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def median_us(work: Callable[[], object], runs: int) -> float:
    """The median time of `runs` single calls, in microseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        work()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def signed_profile(directory: Path) -> Path:
    target = directory / "signed"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    profile = target / "profile.yaml"
    profile.write_text(
        profile.read_text().replace("require_signed_labels: false", "require_signed_labels: true")
    )
    return target


def disclosure(index: int) -> Disclosure:
    return Disclosure(
        time="2026-11-27T10:00:00.000000Z",
        reader=f"reader-{index}",
        item="HUM-2026-000123",
        view="gist",
        portions=("p1",),
        subjects=("s1",),
        rules=("base.gist", "cap.agency"),
        policy="sha256:" + "a" * 64,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--postgres", metavar="URL", help="also time appends to a PostgreSQL trail (own tables)"
    )
    args = parser.parse_args(argv)
    runs = 200 if args.quick else 2000
    appends = 100 if args.quick else 1000

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dissemination-integrity-") as temp:
        directory = Path(temp)
        strict = load_policy(signed_profile(directory))
        plain = default_policy()
        reader = load_principal(EXAMPLES / "readers" / "bf-intel-officer.yaml")
        item = load_item(EXAMPLES / "items" / "hum-001-container.yaml")
        key = generate_key()
        trust = TrustStore.of({item.originator.organisation: [key]})
        signed = sign_label(item, key)
        warm = LabelVerifier(trust)
        if decide(reader, signed, now=NOW, policy=strict, label_check=warm).view.label != "full":
            raise SystemExit("the signed item should be seen in full")

        results["decide_unsigned"] = median_us(
            lambda: decide(reader, item, now=NOW, policy=plain), runs
        )
        results["decide_signed_cold"] = median_us(
            lambda: decide(
                reader, signed, now=NOW, policy=strict, label_check=LabelVerifier(trust)
            ),
            runs,
        )
        results["decide_signed_cached"] = median_us(
            lambda: decide(reader, signed, now=NOW, policy=strict, label_check=warm), runs
        )
        results["verify_label"] = median_us(lambda: verify_label(signed, trust), runs)
        results["sign_label"] = median_us(lambda: sign_label(item, key), runs)

        checkpointer = Checkpointer(generate_key(), every=100)
        counter = iter(range(10**9))
        sinks: list[tuple[str, Any]] = [
            ("append_jsonl_fsync", JsonlSink(directory / "fsync.jsonl")),
            ("append_jsonl", JsonlSink(directory / "plain.jsonl", fsync=False)),
            ("append_sqlite", DatabaseSink(f"sqlite:///{directory / 'trail.db'}")),
        ]
        if args.postgres:
            prefix = f"bench_{time.time_ns()}"
            sinks.append(("append_postgres", DatabaseSink(args.postgres, prefix=prefix)))
        for name, sink in sinks:
            results[name] = median_us(
                lambda sink=sink: sink.append(disclosure(next(counter)), checkpointer=checkpointer),
                appends,
            )
            if name == "append_jsonl":
                start = time.perf_counter_ns()
                report = verify_trail(sink, public_key=checkpointer.key.public_key())
                elapsed = (time.perf_counter_ns() - start) / 1000
                if not report.ok:
                    raise SystemExit(f"the trail should verify: {report.problem}")
                results["verify_trail_per_record"] = elapsed / report.records
            if name == "append_postgres":
                sink.drop()
            sink.close()

    for name, value in results.items():
        print(f"  {name:<26} {value:>10.1f} µs")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"integrity-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": "integrity",
                "when": stamp,
                "quick": args.quick,
                "runs": runs,
                "appends": appends,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "median_us": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
