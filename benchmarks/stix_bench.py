"""The cost of STIX interchange (issue 16): export, import, filter-stix, validation.

    .venv/bin/python benchmarks/stix_bench.py            # 20 repeats
    .venv/bin/python benchmarks/stix_bench.py --quick    # a smoke run

Over the Humber demo (7 items, 6 readers): `export` decides and exports every
item for every reader; `import` imports each item's export for the DV analyst
(the full view, so the whole item comes back); `filter-stix` filters each of
those bundles for every reader; `validate` runs stix2-validator over each
full export (what the tests pay per bundle). Rows give the median, over
repeats, of the mean milliseconds per bundle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stix2validator import ValidationOptions, validate_instance  # noqa: E402

from dissemination import decide, default_policy, iter_items, load_principals  # noqa: E402
from dissemination.stix import export_bundle, filter_bundle, import_bundle  # noqa: E402

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
DEMO = ROOT / "src" / "dissemination" / "demo" / "humber"


def _median_ms(run: Callable[[], int], repeats: int) -> float:
    means = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = run()
        means.append((time.perf_counter() - start) * 1000 / count)
    return statistics.median(means)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    repeats = 3 if parser.parse_args().quick else 20
    policy = default_policy()
    items = list(iter_items(DEMO / "items", policy=policy))
    readers = load_principals(DEMO / "readers", policy=policy)
    analyst = next(reader for reader in readers if reader.id == "bf-analyst-0007")
    full = [export_bundle(i, decide(analyst, i, now=NOW), policy=policy) for i in items]

    def export_all() -> int:
        for item in items:
            for reader in readers:
                export_bundle(item, decide(reader, item, now=NOW), policy=policy)
        return len(items) * len(readers)

    def import_all() -> int:
        for bundle in full:
            import_bundle(bundle, policy=policy, now=NOW)
        return len(full)

    def filter_all() -> int:
        for bundle in full:
            for reader in readers:
                filter_bundle(bundle, reader, policy=policy, now=NOW)
        return len(full) * len(readers)

    def validate_all() -> int:
        for bundle in full:
            validate_instance(bundle, ValidationOptions(silent=True))
        return len(full)

    objects = statistics.mean(len(bundle["objects"]) for bundle in full)
    print(
        f"STIX interchange, Humber demo: {len(items)} items x {len(readers)} readers, "
        f"{objects:.1f} objects per full export, median of {repeats} repeats"
    )
    print(f"{'operation':<12} {'ms per bundle':>14}")
    for name, run in (
        ("export", export_all),
        ("import", import_all),
        ("filter-stix", filter_all),
        ("validate", validate_all),
    ):
        print(f"{name:<12} {_median_ms(run, repeats):>14.2f}")


if __name__ == "__main__":
    main()
