"""Row (g): a decision under a profile that requires signed labels, cold and cached.

Imported by `run.py` only when `dissemination.integrity` exists. The profile is
the default with `require_signed_labels: true`, copied to a temporary directory.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.corpus import NOW
from dissemination import DEFAULT_POLICY_DIR, Item, Principal, decide, load_policy


def run(
    module: Any,
    items: list[Item],
    readers: list[Principal],
    sizes: dict[str, int],
    note: Callable[[str], None],
) -> dict[str, Any]:
    """Sign a slice of the corpus, then decide with a fresh and with a warm verifier."""
    count = min(len(items), 1_000 if sizes["items"] >= 10_000 else 100)
    try:
        with tempfile.TemporaryDirectory(prefix="dissemination-bench-") as temp:
            directory = Path(temp) / "signed"
            shutil.copytree(DEFAULT_POLICY_DIR, directory)
            profile = directory / "profile.yaml"
            text = profile.read_text(encoding="utf-8")
            profile.write_text(
                text.replace("require_signed_labels: false", "require_signed_labels: true"),
                encoding="utf-8",
            )
            policy = load_policy(directory)
            keys = {
                org: module.generate_key()
                for org in {item.originator.organisation for item in items}
            }
            signed = [
                module.sign_label(item, keys[item.originator.organisation])
                for item in items[:count]
            ]
            trust = module.TrustStore.of({org: [key] for org, key in keys.items()})
            reader = readers[0]

            def cold() -> None:
                for item in signed:
                    decide(
                        reader,
                        item,
                        now=NOW,
                        policy=policy,
                        label_check=module.LabelVerifier(trust),
                    )

            warm_check = module.LabelVerifier(trust)

            def cached() -> None:
                for item in signed:
                    decide(reader, item, now=NOW, policy=policy, label_check=warm_check)

            cached()
            results = {}
            for key, label, work in (
                ("g_signed_cold", "(g) decide, signed label verified (cold)", cold),
                ("g_signed_cached", "(g) decide, signed label (verifier cached)", cached),
            ):
                samples = []
                for _ in range(3):
                    start = time.perf_counter()
                    work()
                    samples.append((time.perf_counter() - start) / len(signed) * 1e6)
                results[key] = {
                    "label": label,
                    "us_per_op": statistics.median(samples),
                    "samples": samples,
                }
                print(f"  {label:<58} {results[key]['us_per_op']:>12.2f} µs/op", flush=True)
            return results
    except Exception as exc:  # noqa: BLE001 (signing still being built must not stop the run)
        note(f"(g) skipped: {type(exc).__name__}: {exc}")
        return {}
