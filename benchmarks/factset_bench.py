"""What a new set of facts costs: the policy's answer for facts it has not seen.

    .venv/bin/python benchmarks/factset_bench.py            # default profile, and +1,000 rows
    .venv/bin/python benchmarks/factset_bench.py --quick    # fewer points

A decision asks the policy for the view of its set of facts once, then keeps
the answer (`CompiledPolicy.outcomes`). This measures that first answer: on a
freshly loaded policy, every point of the default profile's projected fact
space is asked once (`decision._outcome`, the derived evaluator), and the mean
cost per point is printed in microseconds, beside what the same points cost
through casbin (four uncached enforce calls and the binding rows, the path
`decide` took before) in the same run. A second row does the same on the default profile with
1,000 extra rows (deny rows on descriptor facts that never bind), because the
cost grows with the rows.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dissemination.decision import _outcome  # noqa: E402
from dissemination.policy import DEFAULT_POLICY_DIR, Policy  # noqa: E402
from dissemination.tooling.factspace import FactSpace  # noqa: E402


def _per_new_fact_set(directory: Path, limit: int) -> tuple[float, float, int]:
    """(µs per new fact set through `decide`'s path, µs through casbin, points)."""
    policy = Policy(directory)
    relevant = frozenset().union(*(row.needed | row.forbidden for row in policy.view_rows))
    space = FactSpace(policy.vocabulary, relevant=relevant, settings=policy.settings)
    names = [point.facts for _, point in zip(range(limit), space.points(), strict=False)]
    bits = [policy.compiled.facts.of(facts) for facts in names]
    start = time.perf_counter()
    for point in bits:
        _outcome(policy, point)
    derived = (time.perf_counter() - start) / len(bits) * 1e6
    # What the first decision on a new set of facts asked before: casbin's four
    # enforce calls (uncached) and the binding rows.
    start = time.perf_counter()
    for facts in names:
        view = policy.engine.decide_view_uncached(facts)
        policy.binding_rows(facts, view)
    casbin = (time.perf_counter() - start) / len(names) * 1e6
    return derived, casbin, len(bits)


def _with_extra_rows(target: Path, count: int) -> Path:
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    csv = target / "policy.csv"
    extra = "".join(
        f"p, extra.{number}, handling.descriptor & !always, pointer, -, deny\n"
        for number in range(count)
    )
    csv.write_text(csv.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return target


def main() -> None:
    """Print the mean cost of a new set of facts, per profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="ask 200 points, not 2,000")
    args = parser.parse_args()
    limit = 200 if args.quick else 2000
    print(
        f"{'profile':<24} {'points':>7} {'µs derived (decide)':>20} {'µs casbin':>10} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for label, directory, points in (
            ("default", DEFAULT_POLICY_DIR, limit),
            ("default + 1,000 rows", _with_extra_rows(Path(scratch) / "extra", 1000), limit // 4),
        ):
            derived, casbin, asked = _per_new_fact_set(directory, points)
            print(
                f"{label:<24} {asked:>7} {derived:>20.1f} {casbin:>10.1f} {casbin / derived:>6.1f}"
            )


if __name__ == "__main__":
    main()
