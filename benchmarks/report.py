"""The results table of docs/performance.md, rendered from `benchmarks/results.json`.

    .venv/bin/python benchmarks/report.py            # print the table
    .venv/bin/python benchmarks/report.py --write    # rewrite it in docs/performance.md

The figures in the docs come from the committed results of the last full run,
never typed by hand: the table sits between two markers in the document, and
`tests/test_performance_doc.py` checks that it is what this module renders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
DOC = ROOT / "docs" / "performance.md"
BEGIN = "<!-- results:begin (rendered by benchmarks/report.py from benchmarks/results.json) -->"
END = "<!-- results:end -->"
GROUPS = (
    ("yardstick", "The yardstick"),
    ("peers", "Peer engines on the same simple rule"),
    ("headline", "What users meet"),
    ("steps", "A service request, step by step (each step alone, on new requests)"),
    ("hot", "Cache hits"),
    ("other", "Other rows"),
)


def _figure(value: float) -> str:
    """A figure to three significant digits, with thousands separators."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _extra(values: dict[str, Any]) -> str:
    notes = []
    if values.get("total_s") is not None:
        notes.append(f"{values['total_s']:.1f} s in all")
    if values.get("peak_mb") is not None:
        notes.append(f"peak {values['peak_mb']:.0f} MB")
    if values.get("checked") is not None:
        wrong = values.get("disagreements", 0)
        agreed = "all agree" if not wrong else f"{wrong} disagree"
        notes.append(f"{values['checked']:,} requests checked, {agreed}")
    if values.get("unavailable"):
        notes.append(str(values["unavailable"]))
    return "; ".join(notes)


def table(results: dict[str, Any]) -> str:
    """The markdown tables of a results file (what the docs quote)."""
    rows: dict[str, dict[str, Any]] = results["rows"]
    lines = [
        f"Full run of {results['when'][:16].replace('T', ' ')} UTC, CPython {results['python']},"
        f" {results['cores']} cores, load average {_load(results)} at the start."
        f" CPU time of the benchmark process; each ratio is to the simple rule by hand"
        f" timed right after the row ({_figure(results['yardstick_us'])} µs at the start).",
        "",
        "| row | µs/op | x simple rule by hand | notes |",
        "|---|---:|---:|---|",
    ]
    for group, title in GROUPS:
        members = [values for values in rows.values() if values.get("group") == group]
        if not members:
            continue
        lines.append(f"| **{title}** | | | |")
        for values in members:
            us = values["us_per_op"]
            if us is None:
                lines.append(f"| {values['label']} | unavailable | | {_extra(values)} |")
                continue
            ratio = values["ratio_to_simple"]
            lines.append(
                f"| {values['label']} | {_figure(us)} | {_figure(ratio)} | {_extra(values)} |"
            )
    lines += [
        "",
        "| measure | result |",
        "|---|---|",
        f"| import + `default_policy()`, fresh interpreter | {results['startup_ms']:.0f} ms"
        f" (interpreter alone {results['interpreter_ms']:.0f} ms) |",
    ]
    for values in sorted(results.get("memory", {}).values(), key=lambda run: run["lines"]):
        lines.append(
            f"| peak memory, cold `filter` over {values['lines']:,} JSON Lines"
            f" | {values['peak_mb']:.0f} MB ({values['seconds']:.1f} s) |"
        )
    return "\n".join(lines) + "\n"


TARGETS = (
    ("a_first_simple", 5.0, "first decision, unseen parsed item, simple rule: at most 5 µs"),
    ("a_first_humber", 10.0, "first decision, unseen parsed item, Humber: at most 10 µs"),
    ("b_service_request", 30.0, "service request, Humber: at most 30 µs"),
    ("e_masking_1000_decide", 20_000.0, "masking n=1,000, first decision: at most 20 ms"),
    ("e_masking_1000_render", 2_000.0, "masking n=1,000, render: at most 2 ms"),
)
"""Issue 14's targets in µs per operation (absolute: for orientation on a shared machine)."""


def targets(results: dict[str, Any]) -> str:
    """The issue 14 targets against this run's figures, as a markdown table."""
    rows: dict[str, dict[str, Any]] = results["rows"]
    lines = ["| target (issue 14) | this run | met |", "|---|---:|---|"]

    def met(flag: bool) -> str:
        return "yes" if flag else "no"

    for key, limit, text in TARGETS:
        us = rows.get(key, {}).get("us_per_op")
        if us is not None:
            lines.append(f"| {text} | {_figure(us)} µs | {met(us <= limit)} |")
    first = rows.get("a_first_simple", {}).get("ratio_to_simple")
    for peer in ("peer_vakt", "peer_regorus"):
        values = rows.get(peer, {})
        name = values.get("label", peer)
        if first is not None and values.get("ratio_to_simple") is not None:
            lines.append(
                f"| first decision on the simple rule faster than {name}"
                f" | x{_figure(first)} against x{_figure(values['ratio_to_simple'])}"
                f" | {met(first < values['ratio_to_simple'])} |"
            )
    fresh = rows.get("a_new_fact_set", {}).get("us_per_op")
    unseen = rows.get("a_first_corpus", {}).get("us_per_op")
    if fresh is not None and unseen is not None:
        lines.append(
            "| a new set of facts costs at most 20 µs (fresh-policy first decision less"
            f" the corpus first decision) | {_figure(fresh - unseen)} µs"
            f" | {met(fresh - unseen <= 20)} |"
        )
    bulk = rows.get("c_filter_cold", {})
    if bulk.get("total_s") is not None and results["headline_sizes"]["filter_lines"] >= 100_000:
        lines.append(
            f"| `filter` of {results['headline_sizes']['filter_lines']:,} distinct JSON Lines"
            f" items, cold: at most 3 s | {bulk['total_s']:.1f} s | {met(bulk['total_s'] <= 3)} |"
        )
    return "\n".join(lines) + "\n"


def _load(results: dict[str, Any]) -> str:
    load = results.get("load_average_at_start")
    return "unknown" if not load else f"{load[0]:.1f}"


def rendered_section(results_path: Path = RESULTS) -> str:
    """The section between the markers, as it should read."""
    results = json.loads(results_path.read_text(encoding="utf-8"))
    return f"{BEGIN}\n{table(results)}\n{targets(results)}{END}"


def current_section(doc_path: Path = DOC) -> str:
    """The section between the markers, as the document has it."""
    text = doc_path.read_text(encoding="utf-8")
    start = text.index(BEGIN)
    end = text.index(END, start) + len(END)
    return text[start:end]


def write(doc_path: Path = DOC, results_path: Path = RESULTS) -> None:
    """Replace the section between the markers with the one rendered from the results."""
    text = doc_path.read_text(encoding="utf-8")
    old = current_section(doc_path)
    doc_path.write_text(text.replace(old, rendered_section(results_path)), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write it into docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file")
    args = parser.parse_args(argv)
    if args.write:
        write(DOC, args.results)
    else:
        print(rendered_section(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
