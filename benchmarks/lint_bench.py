"""Lint at scale: a generated policy.csv of 50,000 rows, time and peak memory.

    .venv/bin/python benchmarks/lint_bench.py                # 50,000 rows
    .venv/bin/python benchmarks/lint_bench.py --rows 5000    # smaller

The default profile's rows, then N generated rows within its vocabulary: deny
rows (caps) and allow rows on one to three facts, some negated, with distinct
rule ids (as a deployment that writes a rule per organisation or operation
would). Lint runs in a fresh process; the figures are its wall time and its
peak resident memory (`ru_maxrss`), and the findings by code. The targets
(issue 11 item 5): under 10 s and under 500 MB at 50,000 rows.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dissemination.facts import fact_names  # noqa: E402
from dissemination.policy import DEFAULT_POLICY_DIR, default_vocabulary  # noqa: E402

_ONE_OF = ("vetting.", "employment.", "reader.invalid")
_VIEW_FACT_PREFIXES = ("vetting.", "employment.", "reader.", "handling.", "label.", "tearline.")


def generate(directory: Path, rows: int, seed: int = 7) -> None:
    """Write the default profile with `rows` generated view rows appended."""
    rng = random.Random(seed)
    shutil.copytree(DEFAULT_POLICY_DIR, directory)
    facts = sorted(
        fact for fact in fact_names(default_vocabulary()) if fact.startswith(_VIEW_FACT_PREFIXES)
    )
    lines = []
    number = 0
    while number < rows:
        chosen = rng.sample(facts, rng.randint(1, 3))
        families = [fact.split(".")[0] for fact in chosen if fact.startswith(_ONE_OF)]
        if len(families) != len(set(families)):
            continue  # two vetting or two employment facts: often a row that never matches
        number += 1
        condition = " & ".join(f"!{fact}" if rng.random() < 0.3 else fact for fact in chosen)
        if rng.random() < 0.8:
            view = rng.choice(["none", "pointer", "gist", "sanitised"])
            lines.append(f"p, gen.{number}, {condition}, {view}, -, deny")
        else:
            view = rng.choice(["pointer", "gist", "sanitised", "full"])
            lines.append(f"p, gen.{number}, {condition}, {view}, -, allow")
    csv = directory / "policy.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")


def _child(directory: str) -> None:
    from dissemination.tooling.lint import lint_policy  # noqa: PLC0415 (timed in the child)

    start = time.perf_counter()
    findings = lint_policy(directory)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    codes = collections.Counter(finding.code for finding in findings)
    errors = sorted({finding.line for finding in findings if finding.severity == "error"})
    figures = {"seconds": seconds, "peak_mb": peak_mb, "codes": dict(codes), "errors": errors}
    print(json.dumps(figures))


def main() -> None:
    """Generate, lint in a fresh process, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(f"{'rows':>8} {'seconds':>8} {'peak MB':>8}  findings")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "big"
        generate(directory, args.rows)
        figures = _lint(directory)
        _report(args.rows, figures, "")
        if figures["errors"]:
            # Without the rows lint refused, lint goes on to load the policy (casbin too).
            csv = directory / "policy.csv"
            lines = csv.read_text(encoding="utf-8").split("\n")
            refused = {line - 1 for line in figures["errors"] if line is not None}
            kept = [line for number, line in enumerate(lines) if number not in refused]
            csv.write_text("\n".join(kept), encoding="utf-8")
            rows = args.rows - len(refused)
            _report(rows, _lint(directory), "(those rows removed: lint also loads the policy)")


def _lint(directory: Path) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603 (this interpreter, this script)
        [sys.executable, __file__, "--child", str(directory)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def _report(rows: int, figures: dict[str, Any], note: str) -> None:
    codes = ", ".join(f"{code} {count}" for code, count in sorted(figures["codes"].items()))
    print(f"{rows:>8} {figures['seconds']:>8.1f} {figures['peak_mb']:>8.0f}  {codes} {note}")


if __name__ == "__main__":
    main()
